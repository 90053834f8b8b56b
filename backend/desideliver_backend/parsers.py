"""JSON parsing that answers hostile nesting with a 400.

Python's json decoder recurses once per nesting level and raises RecursionError
past the interpreter's limit (a body of ``"[" * 100000``); DRF's JSONParser does
not catch it, so it was a 500. The decoder raises it cleanly, before it runs out
of stack, so catching it is enough.
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser


class JSONParser(DRFJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
