"""Shared extension objects; bound to an app inside create_app."""

from flask_appbuilder.models.sqla import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# Named constraints, so later migrations can alter them on SQLite (batch mode) and PostgreSQL.
Model.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# One metadata for FAB's security tables and ours, so migrations and create_all see everything.
# No autoflush: a query in the middle of an edit (a lazy load of the account's school, say) would
# flush the edit and erase the attribute history the rule gate and the audit read.  Writes reach
# the database on commit or an explicit flush.
db = SQLA(metadata=Model.metadata, session_options={"autoflush": False})
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
