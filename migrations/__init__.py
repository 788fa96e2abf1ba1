"""Alembic environment for pantau; ships inside the wheel so `pantau db upgrade` works anywhere."""
