"""Stores made by an older server: the forms it wrote that this one reads no more, rewritten on open."""
from __future__ import annotations

from app import queries


def move_old_forms(store) -> bool:
    """Rewrite old forms (app/queries/old_forms_moved.ru) in one unit of work; tell whether there were any.

    Cheap: one ASK when there is nothing to do, which is every open after the first."""
    if not store.ask(queries.load("old_forms_left")):
        return False
    with store.transaction() as tx:
        tx.append(queries.load("old_forms_moved"))
    return True
