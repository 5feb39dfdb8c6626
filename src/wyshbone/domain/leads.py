"""Choosing and merging leads: keep the best ``volume`` distinct businesses, fold enrichment into them. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wyshbone.domain.dedupe import lead_keys
from wyshbone.domain.models import Lead


def select_best(leads: Iterable[Lead], volume: int) -> list[Lead]:
    """The first ``volume`` distinct leads, in the given (ranked) order."""
    seen: set[str] = set()
    chosen: list[Lead] = []
    for lead in leads:
        keys = lead_keys(lead.source_id, lead.name, lead.postcode)
        if seen.intersection(keys):
            continue
        seen.update(keys)
        chosen.append(lead)
        if len(chosen) >= volume:
            break
    return chosen


def merge_enrichment(leads: Sequence[Lead], enriched: Iterable[Lead]) -> list[Lead]:
    """Fill each lead's empty fields from an enriched copy with the same ``source_id``, keeping provenance."""
    by_id = {e.source_id: e for e in enriched}
    merged: list[Lead] = []
    for lead in leads:
        extra = by_id.get(lead.source_id)
        if extra is None:
            merged.append(lead)
            continue
        updates: dict[str, object] = {}
        provenance = dict(lead.provenance)
        for name in ("phone", "website", "domain", "emails"):
            value = getattr(extra, name)
            if value and not getattr(lead, name):
                updates[name] = value
                provenance[name] = extra.provenance.get(name, extra.source)
        merged.append(lead.model_copy(update={**updates, "provenance": provenance}))
    return merged
