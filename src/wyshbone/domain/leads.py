"""Choosing and merging leads: keep the best ``volume`` distinct businesses, fold enrichment into them. Pure."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence

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
    """Fill each lead's empty fields from an enriched copy with the same ``source_id``, keeping provenance; the
    copy's notes (e.g. the addresses a provider refused) are added to the lead's, each once, in order."""
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
        notes = list(dict.fromkeys([*lead.notes, *extra.notes]))
        if notes != lead.notes:
            updates["notes"] = notes
        merged.append(lead.model_copy(update={**updates, "provenance": provenance}))
    return merged


def merge_leads(
    batches: Sequence[Sequence[Lead]], *, domain_of: Callable[[Lead], str | None] = lambda lead: lead.domain
) -> list[Lead]:
    """Leads from several providers, in order, without duplicates (same source id, same web domain, or same name
    at the same postcode); a duplicate fills the fields the first copy lacks, and provenance says who gave what."""
    merged: list[Lead] = []
    index: dict[str, int] = {}
    for batch in batches:
        for lead in batch:
            keys = [*lead_keys(lead.source_id, lead.name, lead.postcode)]
            domain = domain_of(lead)
            if domain:
                keys.append(f"domain|{domain}")
            at = next((index[k] for k in keys if k in index), None)
            if at is None:
                at = len(merged)
                merged.append(lead)
            else:
                merged[at] = _fill(merged[at], lead)
            index.update(dict.fromkeys(keys, at))
    return merged


_FILLABLE = (
    "address",
    "postcode",
    "post_town",
    "phone",
    "website",
    "domain",
    "lat",
    "lon",
    "category",
    "emails",
)


def _fill(first: Lead, other: Lead) -> Lead:
    updates: dict[str, object] = {}
    provenance = dict(first.provenance)
    for name in _FILLABLE:
        value = getattr(other, name)
        if value and not getattr(first, name):
            updates[name] = value
            provenance[name] = other.provenance.get(name, other.source)
    return first.model_copy(update={**updates, "provenance": provenance}) if updates else first


LEAD_CSV_FIELDS = (
    "name",
    "category",
    "sourceType",
    "address",
    "postcode",
    "postTown",
    "localAuthority",
    "region",
    "lat",
    "lon",
    "distanceKm",
    "phone",
    "website",
    "domain",
    "emails",
    "matchArea",
    "matchReasons",
    "source",
    "sourceId",
    "sourceDate",
)
"""The columns of a lead list's CSV (the API's download and ``wyshbone leads --csv``), each once: where the
business is (its council and region, its point and its distance from the place asked for), how to reach it, how
it matches the goal (``inside``/``nearby`` and the reasons, "; "-separated) and which record it comes from."""


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection")."""


def csv_cell(value: object) -> object:
    """A cell as a spreadsheet will show it: text that would be read as a formula gets a leading ``'``.

    Business names in the open data really do start so (``@ Angelas``, ``+ Calorie``); numbers stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def leads_csv(leads: Iterable[Lead]) -> str:
    """The leads as CSV text, one row each; emails and match reasons joined with "; "; no cell can run as a
    formula."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LEAD_CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for lead in leads:
        row = lead.to_json_dict()
        row["emails"] = "; ".join(e.value for e in lead.emails)
        row["matchArea"] = lead.match.area if lead.match else None
        row["matchReasons"] = "; ".join(lead.match.reasons) if lead.match else None
        writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return buffer.getvalue()
