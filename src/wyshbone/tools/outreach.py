"""EMAIL_SEQUENCE_SETUP ("Prepare Outreach"): a sequence for the saved list, one set of drafts per lead with a
usable, unsuppressed address. Nothing is sent here: ``wyshbone outreach send`` does that, later, on purpose."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wyshbone.config import Settings
from wyshbone.domain.models import Lead, LeadToolExecutionEnv, LeadToolExecutionResult
from wyshbone.domain.outreach import (
    DEFAULT_STEPS,
    OutreachSequence,
    Sender,
    SequenceStep,
    Suppression,
    SuppressionReason,
    account_of,
    check_templates,
    choose_contact,
    draft_sequence,
    lead_key,
    suppression_entry,
)
from wyshbone.domain.planner import ProviderInfo
from wyshbone.domain.steps import NotDrafted, SaveListOutput, SequenceOutput, SequenceParams
from wyshbone.errors import InputError, PermanentToolError, ToolError
from wyshbone.providers.hunter import VERIFICATION_UNIT_PRICE_USD, ClaimedEmailError, HunterClient
from wyshbone.signing import OptOutLinks
from wyshbone.storage.leads import LeadRepository
from wyshbone.storage.outreach import OutreachRepository
from wyshbone.tools.contacts import bounded_map
from wyshbone.tools.registry import Provider, unavailable

OUTREACH = "outreach_drafts"


def sender_of(settings: Settings) -> Sender:
    return Sender(
        name=settings.sender_name,
        email=settings.sender_email,
        company=settings.sender_company,
        address=settings.sender_address,
    )


def saved_list_id(env: LeadToolExecutionEnv, step_id: str) -> int:
    """The list the save step ``step_id`` wrote (``PermanentToolError`` when it saved none)."""
    output = env.output_of(step_id, SaveListOutput)
    if output is None:
        raise PermanentToolError(f"no saved list: step {step_id!r} did not save one")
    return output.list_id


def sequence_steps(params: SequenceParams) -> list[SequenceStep]:
    """The step's own templates (``steps``), else the default sequence cut to ``sequenceLength``."""
    steps = list(params.steps or ())
    if not steps:
        steps = list(DEFAULT_STEPS[: max(1, params.sequence_length or len(DEFAULT_STEPS))])
    try:
        check_templates(steps)
    except InputError as exc:
        raise PermanentToolError(exc.message) from None
    return steps


async def verify_contacts(
    leads: list[Lead], hunter: HunterClient | None, suppressions: Mapping[tuple[str, str], str]
) -> tuple[list[Lead], list[Suppression], int]:
    """Check with Hunter's verifier the one address per lead that would be written to, when it is unverified.

    Claimed addresses (451: the person opted out at Hunter) come back as suppressions; a verifier that fails
    for a passing reason leaves the address unverified (drafting does not depend on it). Returns the leads with
    their verdicts, the suppressions, and how many addresses were checked.
    """
    if hunter is None:
        return leads, [], 0

    async def one(lead: Lead) -> tuple[Lead, Suppression | None, bool]:
        contact, _ = choose_contact(lead, suppressions)
        if contact is None or contact.verification not in _UNCHECKED:
            return lead, None, False
        try:
            verdict = await hunter.verify(contact.value)
        except ClaimedEmailError:
            return lead, suppression_entry(contact.value, SuppressionReason.CLAIMED), True
        except ToolError:
            return lead, None, True
        emails = [
            e.model_copy(update={"verification": verdict.verification, "score": verdict.score})
            if e.value == contact.value
            else e
            for e in lead.emails
        ]
        return lead.model_copy(update={"emails": emails}), None, True

    checked = await bounded_map(one, leads)
    return (
        [lead for lead, _, _ in checked],
        [entry for _, entry, _ in checked if entry is not None],
        sum(1 for _, _, asked in checked if asked),
    )


_UNCHECKED = {"unverified", "unknown"}


@dataclass(frozen=True, slots=True)
class _Drafting:
    """The outreach step: the saved list's new leads, checked, drafted into the plan step's sequence."""

    outreach: OutreachRepository
    leads: LeadRepository
    links: OptOutLinks
    hunter: HunterClient | None
    sender: Sender

    async def __call__(self, params: SequenceParams, env: LeadToolExecutionEnv) -> LeadToolExecutionResult:
        list_id = saved_list_id(env, params.source_step_id)
        steps = sequence_steps(params)
        account = account_of(env.user)
        checked, suppressions, verified = await self._new_leads(params, env, list_id, account)
        try:
            drafts, skipped = draft_sequence(
                checked,
                steps,
                self.sender,
                suppressions=suppressions,
                opt_out_url=lambda email: self.links.url(account, email),
                persona=params.persona or env.plan.goal.target_persona,
            )
        except InputError as exc:  # a template that fails for these leads' fields
            raise PermanentToolError(exc.message) from None
        sequence_id, _ = await self.outreach.create_sequence(
            plan_id=params.plan_id or env.plan.id,
            step_id=env.step_id,
            list_id=list_id,
            account_id=account,
            steps=steps,
            sender=self.sender,
            drafts=drafts,
            skipped=skipped,
        )
        sequence = await self.outreach.sequence(sequence_id=sequence_id)
        assert sequence is not None
        output = _report(sequence, steps, newly_drafted=len({d.lead_key for d in drafts}), verified=verified)
        return LeadToolExecutionResult(success=True, output=output)

    async def _new_leads(
        self, params: SequenceParams, env: LeadToolExecutionEnv, list_id: int, account: str
    ) -> tuple[list[Lead], dict[tuple[str, str], str], int]:
        """The list's leads the sequence does not have yet (run again when a monitor found new businesses),
        their addresses verified; the account's suppressions, with the addresses found claimed; how many
        addresses were verified."""
        suppressions = await self.outreach.suppressions(account)
        owner = params.plan_id or env.plan.id  # a monitor's check adds to its plan's sequence
        have = await self.outreach.sequence_lead_keys(plan_id=owner, step_id=env.step_id)
        new = [lead for lead in await self.leads.of_list(list_id) if lead_key(lead) not in have]
        checked, claimed, verified = await verify_contacts(new, self.hunter, suppressions)
        await self.outreach.add_suppressions(account, claimed)
        suppressions |= {(entry.kind.value, entry.value): entry.reason.value for entry in claimed}
        return checked, suppressions, verified


def _report(
    sequence: OutreachSequence, steps: list[SequenceStep], *, newly_drafted: int, verified: int
) -> SequenceOutput:
    """What the step says it did: whom it drafted, and why not the others."""
    drafted = [lead for lead in sequence.leads if lead.status == "active"]
    not_drafted = [lead for lead in sequence.leads if lead.status != "active"]
    return SequenceOutput(
        sequence_id=sequence.id,
        list_id=sequence.list_id,
        drafted=len(drafted),
        newly_drafted=newly_drafted,
        messages=len(sequence.messages),
        steps=[s.key for s in steps],
        verified=verified,
        suppressed=sum(1 for lead in not_drafted if lead.status == "suppressed"),
        not_drafted=[NotDrafted(lead_name=lead.lead_name, reason=lead.reason) for lead in not_drafted],
    )


def outreach_provider(
    settings: Settings,
    *,
    outreach: OutreachRepository,
    leads: LeadRepository,
    links: OptOutLinks,
    hunter: HunterClient | None = None,
) -> Provider[SequenceParams]:
    """Drafts the saved list's leads into ``outreach``; with ``hunter``, each unverified address is verified
    first (claimed ones are suppressed, invalid ones skipped)."""
    sender = sender_of(settings)
    if missing := sender.missing():
        return unavailable(
            OUTREACH, f"set {', '.join(missing)}: every message must say who sends it and from where"
        )
    # With Hunter, the one address per lead to be written to is verified first: that is a paid call per lead.
    info = ProviderInfo(
        f"{OUTREACH}+hunter_verifier" if hunter else OUTREACH,
        configured=True,
        external=hunter is not None,
        unit_price_usd=VERIFICATION_UNIT_PRICE_USD if hunter else None,
    )
    return Provider(info, _Drafting(outreach, leads, links, hunter, sender))
