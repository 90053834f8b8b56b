"""The catalogue version and the triggers that move it.

Every write to products or categories, by any path (ORM, bulk update, loaddata,
raw SQL), replaces the version with a random one at the writing transaction's
commit. The row triggers are deferred constraint triggers: they run at commit,
after the transaction has taken all its product locks, so waiting for the
version row never sits between two product locks (no deadlock with orders), and
a flag makes one commit update the row once however many rows it wrote.
The SQL is PostgreSQL's; on SQLite (import_sqlite migrates a copy of an old
SQLite database) there is no cache to invalidate and nothing is created.
A random value, not a counter: a restored backup can never bring back a version
number that later labelled different data.
"""

import uuid

from django.db import migrations, models

import products.validators


def run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run

TABLES = ["products_product", "products_category"]

CREATE = """
INSERT INTO products_catalogueversion (id, value) VALUES (1, gen_random_uuid());

CREATE FUNCTION products_catalogue_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Deferred row triggers all fire within the committing statement: one update for them all.
    IF coalesce(current_setting('products.catalogue_version_bumped', true), '') <> statement_timestamp()::text THEN
        PERFORM set_config('products.catalogue_version_bumped', statement_timestamp()::text, true);
        -- An upsert: a lost row (a truncated table) comes back rather than freezing the version.
        INSERT INTO products_catalogueversion (id, value) VALUES (1, gen_random_uuid())
            ON CONFLICT (id) DO UPDATE SET value = excluded.value;
    END IF;
    RETURN NULL;
END
$$;
""" + "".join(
    f"""
CREATE CONSTRAINT TRIGGER {table}_catalogue_version
    AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION products_catalogue_version_bump();
CREATE TRIGGER {table}_catalogue_version_truncate
    AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION products_catalogue_version_bump();
"""
    for table in TABLES
)

DROP = "".join(
    f"DROP TRIGGER {table}_catalogue_version ON {table};DROP TRIGGER {table}_catalogue_version_truncate ON {table};"
    for table in TABLES
) + "DROP FUNCTION products_catalogue_version_bump();"


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='CatalogueVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.UUIDField(default=uuid.uuid4)),
            ],
        ),
        migrations.AlterField(
            model_name='product',
            name='image',
            field=models.ImageField(blank=True, upload_to=products.validators.product_image_path, validators=[products.validators.validate_image_file]),
        ),
        migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP)),
    ]
