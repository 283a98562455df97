"""The identity-reveal log is append-only in the database too, like the audit table: no UPDATE, no DELETE."""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION reports_identityreveal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'identity reveal records are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reports_identityreveal_append_only
    BEFORE UPDATE OR DELETE ON reports_identityreveal
    FOR EACH ROW EXECUTE FUNCTION reports_identityreveal_append_only();
"""

APPEND_ONLY_REVERSE = """
DROP TRIGGER IF EXISTS reports_identityreveal_append_only ON reports_identityreveal;
DROP FUNCTION IF EXISTS reports_identityreveal_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_drop_duplicate_received_index")]

    operations = [migrations.RunSQL(APPEND_ONLY, APPEND_ONLY_REVERSE)]
