"""Alembic runs migrations on the connection that testengine.storage.database hands it."""

from alembic import context

from testengine.storage import tables  # noqa: F401  (registers the tables on the metadata)
from sqlmodel import SQLModel

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through testengine (testengine db upgrade), which supplies the connection")

context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
