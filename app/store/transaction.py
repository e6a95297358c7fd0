"""The unit of work: every change of the store goes through one (`with store.transaction() as tx`).

A transaction holds its named locks (app/store/locks.py) from start to end, and the store's
short commit lock while it commits. It remembers each document it
reads (`graph`), takes the documents the caller writes (`put`, `create`, `drop`) and the extra
updates that must ride along (`append`: a bulk status move, and later the events that report
a change), and at the end writes them all in one atomic update. A document it read is written
as its difference against what was read, so a statement someone else added since (a writer
outside this lock) is not overwritten by the stale copy: only the statements this transaction
removed or added are touched. Statements about a blank node the document holds (a price, a
quantity) are changed in place, the node found through the one statement pointing at it.

One limit: a document whose changed blank nodes cannot be found so (nested, pointed at twice,
or linked to a new blank node) is replaced whole (`app/store/updates.py: replace_graphs_update`).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping

from pyoxigraph import NamedNode, Quad, Triple

from app.queries import bind
from app.store.locks import STORE_KEY, MoreLocks
from app.store.updates import replace_graphs_update


@dataclasses.dataclass(frozen=True)
class Committed:
    """What a finished unit of work read and wrote, handed to its after-commit callbacks."""
    read: Mapping[NamedNode, list[Triple]]
    writes: Mapping[NamedNode, list[Triple]]
    drops: tuple[NamedNode, ...]


class Undone(Exception):
    """What an after-commit callback raises once it has undone its unit of work's change (a
    partner platform refused the basket): `error`, what the caller is to hear, reaches it as is.
    Anything else a callback raises finds the change standing (Store.transaction)."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


class Transaction:
    """What one unit of work read, and what it will write when it ends."""

    def __init__(self, store, keys: tuple[str, ...] = ()):
        self._store = store
        self.keys = frozenset(keys)                        # the named locks it holds
        self.hooks: list[tuple[Callable, Callable | None]] = []   # (under the commit lock, staging)
        self.read: dict[NamedNode, list[Triple]] = {}      # graph → its triples as read
        self.writes: dict[NamedNode, list[Triple]] = {}    # graph → its triples to be
        self.drops: dict[NamedNode, None] = {}             # graphs to remove
        self.extra: list[str] = []                         # bound updates to run after the writes
        self.prefixes: dict[str, str] = {}                 # their PREFIX declarations, gathered
        self.catalogue_unchanged = False                   # declared by `leaves_catalogue`
        self.callbacks: list[Callable[[Committed], None]] = []
        self.replaced: set[NamedNode] = set()              # documents written whole, not by their difference
        self.mark = store.read_mark()                      # when it began, for what the store remembers

    # --- reading ---------------------------------------------------------------------------

    def graph(self, name: NamedNode) -> list[Triple]:
        """The triples of one document as this transaction sees it (its own writes included)."""
        if name in self.writes:
            return list(self.writes[name])
        if name in self.drops:
            return []
        if name not in self.read:
            self.read[name] = self._store.graph(name)
        return list(self.read[name])

    def graphs(self, names) -> dict[NamedNode, list[Triple]]:
        """Several documents as `graph` sees them, those not yet read fetched in one request."""
        missing = [n for n in names if n not in self.writes and n not in self.drops and n not in self.read]
        if missing:
            self.read.update(self._store.documents(missing))
        return {name: self.graph(name) for name in names}

    def has_graph(self, name: NamedNode) -> bool:
        """Tell whether a document holds any triple (read through `graph`, so it is remembered)."""
        return bool(self.graph(name))

    def select(self, query: str, bindings: Mapping | None = None) -> list[dict]:
        """Run a SELECT inside the transaction (it sees what is committed, not pending writes)."""
        return self._store.select(query, bindings)

    def ask(self, query: str, bindings: Mapping | None = None) -> bool:
        """Run an ASK inside the transaction."""
        return self._store.ask(query, bindings)

    def fresh(self, name: NamedNode) -> list[Triple]:
        """One document read again from the store, now (a commit hook's read under the commit lock)."""
        self.read[name] = self._store.graph(name)
        return self.graph(name)

    def need(self, keys) -> None:
        """Refuse (MoreLocks) a unit of work whose locks do not cover `keys`: it is run again over them."""
        missing = {getattr(k, "value", k) for k in keys} - self.keys
        if missing:
            raise MoreLocks((self.keys - {STORE_KEY}) | missing)

    def at_commit(self, hook: Callable, stage: Callable | None = None) -> None:
        """Call `hook(tx)` under the commit lock just before writing: for what all writers share
        (the event counter), read and moved only for that instant. A large unit of work is
        written in two steps (app/store/base.py): `stage(self)` first adds what it must write
        with the change, outside the commit lock; `hook` then gets a small unit of work of its own."""
        self.hooks.append((hook, stage))

    def after_commit(self, callback: Callable[[Committed], None]) -> None:
        """Call `callback(committed)` once this unit of work has committed and released the lock.

        Not called when the block raises. Callbacks run in the order given; one that raises
        stops the rest. The change is committed by then: the caller gets OutcomeUnknown saying
        so, unless the callback undid the change and raised Undone.
        """
        self.callbacks.append(callback)

    def leaves_catalogue(self) -> None:
        """Declare that this unit of work changes no offer, no item's link to its offers or
        product, no product, price or setting (it writes orders, ledgers, events, deliveries):
        the store's `catalogue_generation` stays where it is, and what was remembered of the
        catalogue (app/catalog/links.py LinkCache) outlives it, whatever else commits meanwhile."""
        self.catalogue_unchanged = True

    def committed(self) -> Committed:
        """What this unit of work read and wrote, as its callbacks receive it."""
        return Committed(dict(self.read), dict(self.writes), tuple(self.drops))

    def go_on(self) -> None:
        """After a part of this unit of work was written (`Store.commit_part`): start afresh from
        the store as it now is, under the same locks. What was written is read again when asked
        for (the store named its new blank nodes); its after-commit callbacks still wait for the end."""
        for name in (*self.writes, *self.drops):
            self.read.pop(name, None)
        self.writes, self.drops, self.extra, self.prefixes = {}, {}, [], {}
        self.hooks, self.replaced = [], set()
        self.__dict__.pop("_prepared", None)
        self.mark = self._store.read_mark()

    # --- writing ---------------------------------------------------------------------------

    def put(self, name: NamedNode, triples: Iterable[Triple]) -> None:
        """Make a document hold exactly `triples` (no triple: the document goes)."""
        self.drops.pop(name, None)
        self.writes[name] = list(triples)

    def create(self, name: NamedNode, triples: Iterable[Triple]) -> None:
        """Write a document known not to exist yet (a freshly minted IRI): nothing to drop first."""
        self.new(name)
        self.put(name, triples)

    def new(self, name: NamedNode) -> None:
        """Note that `name` is freshly minted: it holds nothing, so nothing needs reading."""
        self.read.setdefault(name, [])

    def drop(self, name: NamedNode) -> None:
        """Remove a document."""
        self.writes.pop(name, None)
        self.drops[name] = None

    def append(self, update: str, bindings: Mapping | None = None) -> None:
        """Run one more SPARQL update in the same atomic update, after the documents' writes.

        This is where a change's companions ride along (a bulk status move; the events that
        report the change): all of them are written, or none.
        """
        prologue, text = _split_prologue(bind(update, bindings).strip())
        for prefix, iri in prologue.items():
            if self.prefixes.setdefault(prefix, iri) != iri:
                raise ValueError(f"PREFIX {prefix} names {iri} here and {self.prefixes[prefix]} in an earlier update")
        if text:
            self.extra.append(text)

    @property
    def changed(self) -> bool:
        """Tell whether committing would write anything."""
        return bool(self.writes or self.drops or self.extra)

    @property
    def only_new(self) -> bool:
        """Tell whether every write is a document read empty, and nothing else is written."""
        return not self.drops and not self.extra and all(
            g in self.read and not self.read[g] for g in self.writes)

    def quads(self) -> list[Quad]:
        """The written documents as quads (for a commit of new documents only)."""
        return [Quad(t.subject, t.predicate, t.object, g) for g, triples in self.writes.items() for t in triples]

    def prepare(self) -> None:
        """Build the update of what is written so far, before the commit lock is taken: the
        commit hooks then add only their own documents (the events), built under it."""
        self._prepared = (self._body(self.writes, self.drops, self.extra),
                          dict(self.writes), dict(self.drops), len(self.extra))

    def update_text(self) -> str:
        """The single SPARQL update this transaction commits (empty when nothing changed)."""
        body = None
        if (prepared := self.__dict__.get("_prepared")) is not None:
            text, writes, drops, extra = prepared
            # Reused only while what it was built from stands: hooks added, never changed.
            if all(self.writes.get(g) is t for g, t in writes.items()) and drops.keys() <= self.drops.keys() \
                    and len(self.extra) == extra and not set(self.drops) - set(drops):
                later = self._body({g: t for g, t in self.writes.items() if g not in writes}, (), [])
                body = " ;\n".join(b for b in (text, later) if b)
        if body is None:
            body = self._body(self.writes, self.drops, self.extra)
        # Oxigraph reads a prologue only at the start of a request, not after `;` as SPARQL 1.1
        # allows: the appended updates' declarations go first, once.
        prologue = "".join(f"PREFIX {p} <{iri}>\n" for p, iri in self.prefixes.items())
        return prologue + body if body else ""

    def _body(self, writes, drops, extra) -> str:
        current = {g: self.read[g] for g in writes if g in self.read}
        # `put` and `drop` keep writes and drops apart: no document is in both.
        ops = [replace_graphs_update(writes, list(drops), current, self.replaced), *extra]
        return " ;\n".join(op for op in ops if op)


_PROLOGUE = re.compile(r"\s*(?:#[^\n]*|PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>)", re.I)


def _split_prologue(text: str) -> tuple[dict[str, str], str]:
    """An update's leading PREFIX declarations (name → IRI), and the rest of its text."""
    prefixes, at = {}, 0
    while m := _PROLOGUE.match(text, at):
        if m.group(2) is not None:
            prefixes[(m.group(1) or "") + ":"] = m.group(2)
        if m.end() == at:
            break
        at = m.end()
    return prefixes, text[at:].strip()
