"""A private certificate authority for the suite's TLS servers (S3 behind TLSProxy,
PostgreSQL with ssl on), made with the openssl command line."""

import ipaddress

from tests.stack.stack import run


def certificate_authority(directory, name: str) -> tuple:
    """A private CA and a server certificate it signed for NAME, an IP address or a DNS
    name: (ca, cert, key) paths."""
    ca, ca_key, cert, key, request = (directory / f for f in ("ca.pem", "ca.key", "cert.pem", "key.pem", "req"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "1", "-subj", "/CN=stack test CA"])
    run(["openssl", "req", *ec, "-keyout", key, "-out", request, "-subj", f"/CN={name}"])
    try:
        alternative = f"IP:{ipaddress.ip_address(name)}"
    except ValueError:
        alternative = f"DNS:{name}"
    extensions = directory / "san.cnf"
    extensions.write_text(f"subjectAltName={alternative}\n")
    run(["openssl", "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "1", "-extfile", extensions])  # fmt: skip
    ca.chmod(0o644)
    return ca, cert, key
