"""Outreach decisions, pure: the default sequence, drafting, suppression, choosing a contact and what is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from wyshbone.domain.models import ContactEmail, Lead, SupervisorUserContext
from wyshbone.domain.outreach import (
    DEFAULT_STEPS,
    MAX_ATTEMPTS,
    QueuedMessage,
    Sender,
    SequenceStep,
    Skipped,
    Suppression,
    SuppressionKind,
    SuppressionReason,
    account_of,
    check_templates,
    choose_contact,
    draft_sequence,
    due_messages,
    footer,
    idempotency_key,
    lead_key,
    render_step,
    start_of_day,
    suppressed_by,
    suppression_entry,
)
from wyshbone.errors import InputError

OPT_OUT = "https://wyshbone.example/opt-out?t=abc&u=1"
T0 = datetime(2024, 11, 1, 10, 0, tzinfo=UTC)
FOOTER_TEXT = (
    "--\n"
    "Sent by Ann Smith, Beans Ltd <ann@beans.co.uk>\n"
    "1 High St, Leeds LS1 1AA\n"
    f"Don't want to hear from us again? Opt out here: {OPT_OUT}"
)


def sender(**fields: Any) -> Sender:
    values = {
        "name": "Ann Smith",
        "email": "ann@beans.co.uk",
        "company": "Beans Ltd",
        "address": "1 High St, Leeds LS1 1AA",
        **fields,
    }
    return Sender(**values)


def email(value: str, verification: str = "valid", **fields: Any) -> dict[str, Any]:
    return {"value": value, "source": "hunter", "verification": verification, **fields}


def lead(
    source_id: str, name: str, *emails: dict[str, Any], postcode: str | None = None, **fields: Any
) -> Lead:
    return Lead(
        name=name,
        source=source_id.split(":")[0],
        source_id=source_id,
        postcode=postcode,
        emails=list(emails),
        **fields,
    )


def step(key: str = "intro", day: int = 0, subject: str = "Hello", body: str = "Hi.") -> SequenceStep:
    return SequenceStep(key=key, day=day, subject=subject, body=body)


def entries(*suppressions: Suppression) -> dict[tuple[str, str], str]:
    return {(s.kind, s.value): s.reason for s in suppressions}


def queued(
    id: int,
    lead_key: str,
    step_index: int,
    status: str = "draft",
    *,
    day: int | None = None,
    attempts: int = 0,
    sent_at: datetime | None = None,
) -> QueuedMessage:
    days = {0: 0, 1: 3, 2: 7}
    return QueuedMessage(
        id, lead_key, step_index, days[step_index] if day is None else day, status, attempts, sent_at
    )


# --- the default sequence and its steps ---------------------------------------------------------------------


def test_default_sequence_is_an_intro_then_a_follow_up_on_day_3_then_a_last_note_on_day_7() -> None:
    assert [(s.key, s.day) for s in DEFAULT_STEPS] == [("intro", 0), ("follow_up", 3), ("last_note", 7)]
    check_templates(DEFAULT_STEPS)  # its own templates parse and its days go forwards


@pytest.mark.parametrize(
    "fields",
    [
        {"key": "", "day": 0, "subject": "s", "body": "b"},
        {"key": "k", "day": -1, "subject": "s", "body": "b"},
        {"key": "k", "day": 366, "subject": "s", "body": "b"},
        {"key": "k", "day": 0, "subject": "", "body": "b"},
        {"key": "k", "day": 0, "subject": "s", "body": ""},
    ],
)
def test_sequence_step_refuses_empty_texts_and_days_outside_0_to_365(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SequenceStep.model_validate(fields)


# --- the sender ---------------------------------------------------------------------------------------------


def test_sender_missing_names_every_unset_identity_and_address_setting() -> None:
    assert Sender().missing() == ["WYSHBONE_SENDER_NAME", "WYSHBONE_SENDER_EMAIL", "WYSHBONE_SENDER_ADDRESS"]


def test_sender_missing_counts_blank_values_as_unset_and_does_not_require_a_company() -> None:
    assert sender(name="  ", company=None).missing() == ["WYSHBONE_SENDER_NAME"]
    assert sender(address="\t").missing() == ["WYSHBONE_SENDER_ADDRESS"]
    assert sender(company=None).missing() == []


# --- suppression --------------------------------------------------------------------------------------------


ADDRESS, DOMAIN = SuppressionKind.ADDRESS, SuppressionKind.DOMAIN


@pytest.mark.parametrize(
    ("value", "kind", "normalised"),
    [
        # an address: trimmed and lowercased, as leads hold addresses
        ("  Jo.Bloggs@Tea.CO.uk ", ADDRESS, "jo.bloggs@tea.co.uk"),
        # an address at an international domain: its domain as punycode, as the validator normalises it
        ("jo@café.example", ADDRESS, "jo@xn--caf-dma.example"),
        # the same address in capitals
        ("Jo@CAFÉ.Example", ADDRESS, "jo@xn--caf-dma.example"),
        # the same address already in punycode
        ("jo@xn--caf-dma.example", ADDRESS, "jo@xn--caf-dma.example"),
        # an address with a display name, pasted from a mail program: the address inside the brackets
        ("Jo Bloggs <Jo@Tea.co.uk>", ADDRESS, "jo@tea.co.uk"),
        # a domain, bare
        ("tea.co.uk", DOMAIN, "tea.co.uk"),
        # a domain after an @-sign
        ("@tea.co.uk", DOMAIN, "tea.co.uk"),
        # a domain in capitals after an @-sign
        ("@Tea.CO.UK", DOMAIN, "tea.co.uk"),
        # a domain with whitespace around it
        ("  TEA.co.uk  ", DOMAIN, "tea.co.uk"),
        # a subdomain
        ("mail.tea.co.uk", DOMAIN, "mail.tea.co.uk"),
        # an international domain: punycode
        ("café.example", DOMAIN, "xn--caf-dma.example"),
        # an international domain in capitals after an @-sign
        ("@Café.Example", DOMAIN, "xn--caf-dma.example"),
        # an international domain already in punycode
        ("xn--caf-dma.example", DOMAIN, "xn--caf-dma.example"),
    ],
)
def test_suppression_entry_normalises_what_the_address_validator_accepts(
    value: str, kind: SuppressionKind, normalised: str
) -> None:
    assert suppression_entry(value, SuppressionReason.MANUAL) == Suppression(
        kind=kind, value=normalised, reason=SuppressionReason.MANUAL
    )


NOT_AN_ADDRESS = "{!r} is not an email address: "
NEITHER = "{!r} is neither an email address nor a domain (as the domain of an address: "


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # nothing after the @-sign
        ("jo@", NOT_AN_ADDRESS + "There must be something after the @-sign."),
        # a domain without a dot
        ("jo@localhost", NOT_AN_ADDRESS + "The part after the @-sign is not valid. It should have a period."),
        # whitespace inside the address, before or after the @-sign
        (
            "jo @tea.co.uk",
            NOT_AN_ADDRESS + "The email address contains invalid characters before the @-sign: SPACE.",
        ),
        ("jo@tea .co.uk", NOT_AN_ADDRESS + "The part after the @-sign contains invalid characters: SPACE."),
        # two addresses: one entry is one address
        (
            "info@a.example, victim@evil.example",
            NOT_AN_ADDRESS + "The part after the @-sign contains invalid characters: ',', '@', SPACE.",
        ),
        # a line break: a header, not an address
        (
            "jo@tea.co.uk\r\nBcc: x@evil.example",
            NOT_AN_ADDRESS + "it holds a line break or another control character",
        ),
        # a non-ASCII local part, which no message could be sent to without SMTPUTF8
        (
            "josé@tea.co.uk",
            NOT_AN_ADDRESS + "Internationalized characters before the @-sign are not supported: 'é'.",
        ),
        # a quoted local part
        ('"jo smith"@tea.co.uk', NOT_AN_ADDRESS + "Quoting the part before the @-sign is not allowed here."),
        # an IP address for a domain
        ("jo@[192.0.2.1]", NOT_AN_ADDRESS + "A bracketed IP address after the @-sign is not allowed here."),
        # a special-use domain
        (
            "jo@tea.test",
            NOT_AN_ADDRESS
            + "The part after the @-sign is a special-use or reserved name that cannot be used with email.",
        ),
        # nothing at all, or an @-sign alone
        ("", NEITHER + "There must be something after the @-sign.)"),
        ("@", NEITHER + "There must be something after the @-sign.)"),
        # a host name without a dot, with or without the @-sign
        ("localhost", NEITHER + "The part after the @-sign is not valid. It should have a period.)"),
        ("@localhost", NEITHER + "The part after the @-sign is not valid. It should have a period.)"),
        # words
        ("not an email", NEITHER + "The part after the @-sign contains invalid characters: SPACE.)"),
        # a space inside a domain
        ("tea .co.uk", NEITHER + "The part after the @-sign contains invalid characters: SPACE.)"),
        # an IP address
        (
            "192.0.2.1",
            NEITHER + "The part after the @-sign is not valid. It is not within a valid top-level domain.)",
        ),
        # a domain starting with a hyphen
        ("-tea.co.uk", NEITHER + "An email address cannot have a hyphen immediately after the @-sign.)"),
        # a line break after a domain
        ("tea.co.uk\r\nBcc: x", NEITHER + "it holds a line break or another control character)"),
        # two @-signs before a domain
        ("@@tea.co.uk", NEITHER + "a domain holds no @-sign, angle brackets or quotes)"),
    ],
)
def test_suppression_entry_refuses_what_is_neither_an_address_nor_a_domain_saying_why(
    value: str, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        suppression_entry(value, SuppressionReason.MANUAL)
    assert caught.value.message == message.format(value)


def test_suppression_entry_for_an_international_address_suppresses_it_on_a_lead() -> None:
    # The lead holds the address normalised (punycode), as the entry does, whichever form each was written in.
    cafe = lead("osm:node/1", "Café Jo", email("Jo@CAFÉ.example"))
    listed = entries(suppression_entry("jo@café.example", SuppressionReason.OPTED_OUT))
    assert choose_contact(cafe, listed) == (
        None,
        "suppressed: jo@xn--caf-dma.example is on the suppression list (opted_out)",
    )


def test_suppressed_by_matches_the_address_whatever_its_case_and_says_why() -> None:
    listed = entries(suppression_entry("jo@tea.co.uk", SuppressionReason.OPTED_OUT))
    assert suppressed_by(" Jo@TEA.co.uk", listed) == (
        "suppressed: jo@tea.co.uk is on the suppression list (opted_out)"
    )


def test_suppressed_by_matches_every_address_at_a_suppressed_domain() -> None:
    listed = entries(suppression_entry("@Tea.co.uk", SuppressionReason.HARD_BOUNCE))
    assert suppressed_by("sam@tea.co.uk", listed) == (
        "suppressed: tea.co.uk is on the suppression list (hard_bounce)"
    )
    assert suppressed_by("Jo@TEA.CO.UK", listed) == (
        "suppressed: tea.co.uk is on the suppression list (hard_bounce)"
    )


def test_suppressed_by_reads_entries_keyed_by_plain_strings_as_a_store_returns_them() -> None:
    listed = {("address", "jo@tea.co.uk"): "manual", ("domain", "cake.com"): "hunter_451"}
    assert (
        suppressed_by("jo@tea.co.uk", listed)
        == "suppressed: jo@tea.co.uk is on the suppression list (manual)"
    )
    assert (
        suppressed_by("x@cake.com", listed) == "suppressed: cake.com is on the suppression list (hunter_451)"
    )


def test_suppressed_by_prefers_the_address_entry_when_both_address_and_domain_are_listed() -> None:
    listed = entries(
        suppression_entry("tea.co.uk", SuppressionReason.MANUAL),
        suppression_entry("jo@tea.co.uk", SuppressionReason.OPTED_OUT),
    )
    assert suppressed_by("jo@tea.co.uk", listed) == (
        "suppressed: jo@tea.co.uk is on the suppression list (opted_out)"
    )


def test_suppressed_by_does_not_match_other_addresses_or_domains_that_merely_end_alike() -> None:
    listed = entries(
        suppression_entry("jo@tea.co.uk", SuppressionReason.OPTED_OUT),
        suppression_entry("cake.com", SuppressionReason.MANUAL),
    )
    assert suppressed_by("sam@tea.co.uk", listed) is None  # same domain, other person
    assert suppressed_by("jo@greentea.co.uk", listed) is None
    assert suppressed_by("jo@cupcake.com", listed) is None
    assert suppressed_by("cake.com@example.org", listed) is None
    assert suppressed_by("jo@tea.co.uk", {}) is None


# --- choosing whom to write to ------------------------------------------------------------------------------


def chosen(*emails: dict[str, Any]) -> tuple[str | None, str | None]:
    contact, why_not = choose_contact(lead("fsa:1", "The Crown", *emails))
    return (contact.value if contact else None), why_not


def test_choose_contact_prefers_valid_then_accept_all_then_unverified() -> None:
    unverified = email("u@crown.pub", "unverified", type="personal", score=99)
    accept_all = email("a@crown.pub", "accept_all", type="personal", score=50)
    valid = email("v@crown.pub", "valid", type="generic", score=10)
    assert chosen(unverified, accept_all, valid) == ("v@crown.pub", None)
    assert chosen(unverified, accept_all) == ("a@crown.pub", None)
    assert chosen(unverified) == ("u@crown.pub", None)


def test_choose_contact_prefers_a_personal_address_to_a_generic_one_at_the_same_verification() -> None:
    generic = email("info@crown.pub", "valid", type="generic", score=100)
    personal = email("jo@crown.pub", "valid", type="personal", score=60)
    assert chosen(generic, personal) == ("jo@crown.pub", None)


def test_choose_contact_prefers_the_higher_score_when_verification_and_type_tie() -> None:
    low = email("a@crown.pub", "valid", type="personal", score=40)
    high = email("z@crown.pub", "valid", type="personal", score=90)
    assert chosen(low, high) == ("z@crown.pub", None)


def test_choose_contact_returns_the_address_with_its_details() -> None:
    contact, why_not = choose_contact(
        lead("fsa:1", "The Crown", email("jo@crown.pub", type="personal", first_name="Jo", position="Owner"))
    )
    assert why_not is None
    assert contact == ContactEmail(
        value="jo@crown.pub",
        source="hunter",
        verification="valid",
        type="personal",
        first_name="Jo",
        position="Owner",
    )


def test_choose_contact_never_picks_an_invalid_or_disposable_address() -> None:
    invalid = email("bad@crown.pub", "invalid", type="personal", score=100)
    disposable = email("tmp@mailinator.com", "disposable", type="personal", score=100)
    unverified = email("info@crown.pub", "unverified", type="generic")
    assert chosen(invalid, disposable, unverified) == ("info@crown.pub", None)


def test_choose_contact_says_why_there_is_no_address() -> None:
    assert chosen() == (None, "no email address found")
    assert chosen(email("bad@crown.pub", "invalid"), email("tmp@mailinator.com", "disposable")) == (
        None,
        "no usable address (all invalid or disposable)",
    )


# --- identities and keys ------------------------------------------------------------------------------------


def test_account_of_is_the_account_when_there_is_one_else_the_user() -> None:
    assert account_of(SupervisorUserContext(user_id="u1", account_id="acct9")) == "acct9"
    assert account_of(SupervisorUserContext(user_id="u1")) == "u1"


def test_lead_key_is_the_leads_source_record() -> None:
    assert lead_key(lead("fsa_fhrs:777212", "The Crown", postcode="M1 1AA")) == "fsa_fhrs:777212"


def test_idempotency_key_is_stable_and_distinct_per_sequence_lead_and_step() -> None:
    key = idempotency_key(7, "fsa:1", 2)
    assert key == idempotency_key(7, "fsa:1", 2)
    assert key.startswith("wyshbone-7-2-")
    digest = key.removeprefix("wyshbone-7-2-")
    assert len(digest) == 32 and all(c in "0123456789abcdef" for c in digest)
    others = {idempotency_key(8, "fsa:1", 2), idempotency_key(7, "fsa:2", 2), idempotency_key(7, "fsa:1", 1)}
    assert len(others) == 3 and key not in others


# --- templates ----------------------------------------------------------------------------------------------


def test_check_templates_refuses_an_empty_sequence() -> None:
    with pytest.raises(InputError, match="a sequence needs at least one step"):
        check_templates([])


def test_check_templates_refuses_steps_whose_days_go_backwards_naming_both() -> None:
    steps = [step("intro", 0), step("nudge", 5), step("bye", 2)]
    with pytest.raises(InputError, match=r"^step 'bye' is on day 2, before 'nudge' \(day 5\)$"):
        check_templates(steps)


def test_check_templates_allows_two_steps_on_the_same_day() -> None:
    check_templates([step("intro", 0), step("same_day", 0), step("later", 4)])


@pytest.mark.parametrize(
    "broken", [step("nudge", 3, subject="Hi {{ business_name "), step("nudge", 3, body="{% if town %}no end")]
)
def test_check_templates_names_the_step_whose_subject_or_body_does_not_parse(broken: SequenceStep) -> None:
    with pytest.raises(InputError, match=r"^step 'nudge': the template does not parse: "):
        check_templates([step("intro", 0), broken])


# --- rendering ----------------------------------------------------------------------------------------------


def test_footer_carries_sender_company_email_address_and_opt_out_link_as_text_and_html() -> None:
    text, html = footer(sender(), OPT_OUT)
    assert text == FOOTER_TEXT
    assert html == (
        '<hr><p style="font-size:smaller">Sent by Ann Smith, Beans Ltd &lt;ann@beans.co.uk&gt;<br>'
        "1 High St, Leeds LS1 1AA<br>Don&#39;t want to hear from us again? "
        '<a href="https://wyshbone.example/opt-out?t=abc&amp;u=1">opt out</a></p>'
    )


def test_footer_without_a_company_names_the_sender_alone() -> None:
    text, _ = footer(sender(company=None), "https://x.example/o")
    assert text.splitlines()[1] == "Sent by Ann Smith <ann@beans.co.uk>"


def test_footer_escapes_a_sender_field_in_the_html_part() -> None:
    _, html = footer(sender(company="<script>alert(1)</script>"), "https://x.example/o")
    assert "<script>" not in html
    assert "Sent by Ann Smith, &lt;script&gt;alert(1)&lt;/script&gt; &lt;ann@beans.co.uk&gt;" in html


def test_render_step_ends_a_custom_template_with_the_full_footer_it_cannot_leave_out() -> None:
    rendered = render_step(step(subject="Quick one", body="Just this."), {}, sender(), OPT_OUT)
    assert rendered.subject == "Quick one"
    assert rendered.text == f"Just this.\n\n{FOOTER_TEXT}\n"
    assert rendered.html == (
        "<html><body><p>Just this.</p>"
        '<hr><p style="font-size:smaller">Sent by Ann Smith, Beans Ltd &lt;ann@beans.co.uk&gt;<br>'
        "1 High St, Leeds LS1 1AA<br>Don&#39;t want to hear from us again? "
        '<a href="https://wyshbone.example/opt-out?t=abc&amp;u=1">opt out</a></p></body></html>'
    )


def test_render_step_puts_fields_into_subject_and_body() -> None:
    rendered = render_step(
        step(
            subject="For {{ business_name }} in {{ town }}",
            body="Dear {{ first_name }}, from {{ sender_name }}",
        ),
        {"business_name": "The Crown", "town": "York", "first_name": "Jo", "sender_name": "Ann"},
        sender(),
        OPT_OUT,
    )
    assert rendered.subject == "For The Crown in York"
    assert rendered.text.startswith("Dear Jo, from Ann\n\n--\n")
    assert rendered.html.startswith("<html><body><p>Dear Jo, from Ann</p><hr>")


def test_render_step_turns_blank_lines_into_paragraphs_and_single_newlines_into_breaks() -> None:
    rendered = render_step(step(body="One\nline two\n\n\nPara two\n"), {}, sender(), OPT_OUT)
    assert rendered.html.startswith("<html><body><p>One<br>line two</p><p>Para two</p><hr>")
    assert rendered.text.startswith("One\nline two\n\n\nPara two\n\n--\n")


def test_render_step_escapes_a_business_name_in_html_and_keeps_it_literal_in_text_and_subject() -> None:
    rendered = render_step(
        step(subject="About {{ business_name }}", body="I visited {{ business_name }}."),
        {"business_name": "Tea & <Cake>"},
        sender(),
        OPT_OUT,
    )
    assert rendered.subject == "About Tea & <Cake>"
    assert rendered.text.startswith("I visited Tea & <Cake>.\n\n")
    assert "<p>I visited Tea &amp; &lt;Cake&gt;.</p>" in rendered.html
    assert "<Cake>" not in rendered.html


def test_render_step_puts_a_subject_with_line_breaks_from_a_lead_name_on_one_line() -> None:
    rendered = render_step(
        step(subject="Hi {{ business_name }}"),
        {"business_name": "Evil\r\nBcc: victim@example.com\n\tX-Extra: 1"},
        sender(),
        OPT_OUT,
    )
    assert rendered.subject == "Hi Evil Bcc: victim@example.com X-Extra: 1"


def test_render_step_cuts_a_long_subject_to_300_characters() -> None:
    rendered = render_step(
        step(subject="{{ business_name }}"), {"business_name": "x" * 500}, sender(), OPT_OUT
    )
    assert rendered.subject == "x" * 300


def test_render_step_names_the_step_when_a_template_uses_an_undefined_field() -> None:
    with pytest.raises(InputError, match=r"^step 'nudge' cannot be rendered: 'nickname' is undefined$"):
        render_step(step("nudge", body="Hi {{ nickname }}"), {"business_name": "x"}, sender(), OPT_OUT)


def test_render_step_names_the_step_when_a_template_does_not_parse() -> None:
    with pytest.raises(InputError, match=r"^step 'nudge' cannot be rendered: "):
        render_step(step("nudge", subject="{% if %}x"), {}, sender(), OPT_OUT)


def test_render_step_refuses_a_template_reaching_into_python_internals() -> None:
    with pytest.raises(
        InputError, match=r"^step 'intro' cannot be rendered: access to attribute '__class__'"
    ):
        render_step(step(body="{{ business_name.__class__ }}"), {"business_name": "x"}, sender(), OPT_OUT)


@pytest.mark.parametrize("body", ["{{ business_name + 1 }}", "{{ 1 / 0 }}"])
def test_render_step_names_the_step_when_a_template_fails_while_rendering(body: str) -> None:
    with pytest.raises(InputError, match=r"^step 'nudge' cannot be rendered: "):
        render_step(step("nudge", body=body), {"business_name": "x"}, sender(), OPT_OUT)


# --- drafting -----------------------------------------------------------------------------------------------


def test_draft_sequence_drafts_every_step_for_every_lead_with_a_usable_address() -> None:
    leads = [
        lead("fsa:1", "The Crown", email("Jo@Crown.pub", first_name="Jo"), post_town="York"),
        lead("osm:n/2", "Bean There", email("hello@beanthere.co.uk", "accept_all")),
    ]
    drafts, skipped = draft_sequence(
        leads, DEFAULT_STEPS, sender(), suppressions={}, opt_out_url=lambda _: OPT_OUT
    )
    assert skipped == []
    assert [(d.lead_key, d.lead_name, d.email, d.step_index, d.step_key, d.day) for d in drafts] == [
        ("fsa:1", "The Crown", "jo@crown.pub", 0, "intro", 0),
        ("fsa:1", "The Crown", "jo@crown.pub", 1, "follow_up", 3),
        ("fsa:1", "The Crown", "jo@crown.pub", 2, "last_note", 7),
        ("osm:n/2", "Bean There", "hello@beanthere.co.uk", 0, "intro", 0),
        ("osm:n/2", "Bean There", "hello@beanthere.co.uk", 1, "follow_up", 3),
        ("osm:n/2", "Bean There", "hello@beanthere.co.uk", 2, "last_note", 7),
    ]
    assert all(d.text.endswith(f"{FOOTER_TEXT}\n") for d in drafts)


def test_draft_sequence_fills_the_default_intro_from_the_lead_the_contact_the_sender_and_the_persona() -> (
    None
):
    crown = lead("fsa:1", "The Crown", email("jo@crown.pub", first_name="Jo"), post_town="York")
    drafts, _ = draft_sequence(
        [crown],
        DEFAULT_STEPS[:1],
        sender(),
        suppressions={},
        opt_out_url=lambda _: OPT_OUT,
        persona="coffee shop",
    )
    (intro,) = drafts
    assert intro.subject == "Beans Ltd × The Crown"
    assert intro.text == (
        "Hello Jo,\n\n"
        "I came across The Crown in York and wanted to introduce Beans Ltd. We work with coffee shops like "
        "yours, and I think we could help.\n\n"
        "Would you be open to a short call next week?\n\n"
        f"Best wishes,\nAnn Smith\n\n{FOOTER_TEXT}\n"
    )


def test_draft_sequence_falls_back_when_the_lead_and_sender_say_little() -> None:
    bare = lead("fsa:1", "The Crown", email("info@crown.pub", "unverified"))
    drafts, _ = draft_sequence(
        [bare], DEFAULT_STEPS[:1], sender(company=None), suppressions={}, opt_out_url=lambda _: OPT_OUT
    )
    (intro,) = drafts
    assert intro.subject == "Ann Smith × The Crown"
    assert intro.text.startswith(
        "Hello there,\n\nI came across The Crown and wanted to introduce myself. We work with businesses like yours"
    )


def test_draft_sequence_uses_the_local_authority_when_there_is_no_post_town() -> None:
    crown = lead("fsa:1", "The Crown", email("jo@crown.pub"), local_authority="Leeds")
    drafts, _ = draft_sequence(
        [crown], [step(body="{{ business_name }} in {{ town }}")], sender(), suppressions={}, opt_out_url=str
    )
    assert drafts[0].text.startswith("The Crown in Leeds\n\n")


def test_draft_sequence_escapes_the_lead_in_html_and_not_in_text() -> None:
    cafe = lead("fsa:1", "Tea & <Cake>", email("jo@tea.co.uk"))
    drafts, _ = draft_sequence(
        [cafe], DEFAULT_STEPS[:1], sender(), suppressions={}, opt_out_url=lambda _: OPT_OUT
    )
    (intro,) = drafts
    assert intro.subject == "Beans Ltd × Tea & <Cake>"
    assert "I came across Tea & <Cake> and wanted" in intro.text
    assert "I came across Tea &amp; &lt;Cake&gt; and wanted" in intro.html
    assert "<Cake>" not in intro.html


def test_draft_sequence_skips_suppressed_and_address_less_leads_with_status_and_reason() -> None:
    leads = [
        lead("fsa:1", "No Email"),
        lead("fsa:2", "Bad Email", email("x@bad.com", "invalid")),
        lead("fsa:3", "Opted Out", email("Jo@Tea.co.uk")),
        lead("fsa:4", "Bounced Domain", email("sam@cake.com")),
        lead("fsa:5", "Fine", email("hi@fine.com")),
    ]
    listed = entries(
        suppression_entry("jo@tea.co.uk", SuppressionReason.OPTED_OUT),
        suppression_entry("@cake.com", SuppressionReason.HARD_BOUNCE),
    )
    drafts, skipped = draft_sequence(
        leads, DEFAULT_STEPS, sender(), suppressions=listed, opt_out_url=lambda _: OPT_OUT
    )
    assert [(d.lead_key, d.step_index) for d in drafts] == [("fsa:5", 0), ("fsa:5", 1), ("fsa:5", 2)]
    assert skipped == [
        Skipped("fsa:1", "No Email", None, "no email address found", "skipped"),
        Skipped("fsa:2", "Bad Email", None, "no usable address (all invalid or disposable)", "skipped"),
        Skipped(
            "fsa:3",
            "Opted Out",
            "jo@tea.co.uk",
            "suppressed: jo@tea.co.uk is on the suppression list (opted_out)",
            "suppressed",
        ),
        Skipped(
            "fsa:4",
            "Bounced Domain",
            "sam@cake.com",
            "suppressed: cake.com is on the suppression list (hard_bounce)",
            "suppressed",
        ),
    ]


def test_draft_sequence_asks_the_opt_out_url_once_per_drafted_lead_with_its_lowercased_address() -> None:
    asked: list[str] = []

    def opt_out_url(address: str) -> str:
        asked.append(address)
        return f"https://wyshbone.example/opt-out/{address}"

    leads = [
        lead("fsa:1", "The Crown", email(" Jo@Crown.PUB ")),
        lead("fsa:2", "Suppressed", email("x@gone.com")),
    ]
    listed = entries(suppression_entry("x@gone.com", SuppressionReason.MANUAL))
    drafts, _ = draft_sequence(leads, DEFAULT_STEPS, sender(), suppressions=listed, opt_out_url=opt_out_url)
    assert asked == ["jo@crown.pub"]
    assert len(drafts) == 3
    for draft in drafts:
        assert draft.email == "jo@crown.pub"
        assert draft.text.endswith("Opt out here: https://wyshbone.example/opt-out/jo@crown.pub\n")
        assert '<a href="https://wyshbone.example/opt-out/jo@crown.pub">opt out</a>' in draft.html


def test_draft_sequence_writes_to_the_best_address_of_the_lead() -> None:
    crown = lead(
        "fsa:1",
        "The Crown",
        email("info@crown.pub", "valid", type="generic", score=95),
        email("jo@crown.pub", "valid", type="personal", score=70, first_name="Jo"),
    )
    drafts, _ = draft_sequence([crown], DEFAULT_STEPS[:1], sender(), suppressions={}, opt_out_url=str)
    assert drafts[0].email == "jo@crown.pub"
    assert drafts[0].text.startswith("Hello Jo,\n")


# --- what is due --------------------------------------------------------------------------------------------


def test_due_messages_makes_an_intro_due_at_once() -> None:
    intro = queued(1, "fsa:1", 0)
    assert due_messages([intro, queued(2, "fsa:1", 1), queued(3, "fsa:1", 2)], T0) == [intro]


def test_due_messages_makes_a_day_3_follow_up_due_only_once_3_days_have_passed_since_the_intro_was_sent() -> (
    None
):
    sent_at = T0 + timedelta(hours=5)  # drafted at T0, sent later: days count from the sending
    messages = [queued(1, "fsa:1", 0, "sent", sent_at=sent_at), queued(2, "fsa:1", 1), queued(3, "fsa:1", 2)]
    assert due_messages(messages, T0 + timedelta(days=3)) == []
    assert due_messages(messages, sent_at + timedelta(days=3) - timedelta(seconds=1)) == []
    assert due_messages(messages, sent_at + timedelta(days=3)) == [messages[1]]


def test_due_messages_gives_only_the_next_unsent_step_even_when_later_days_have_passed() -> None:
    messages = [queued(1, "fsa:1", 0, "sent", sent_at=T0), queued(2, "fsa:1", 1), queued(3, "fsa:1", 2)]
    assert due_messages(messages, T0 + timedelta(days=30)) == [messages[1]]


def test_due_messages_counts_the_last_note_from_the_intro_not_from_the_follow_up() -> None:
    messages = [
        queued(1, "fsa:1", 0, "sent", sent_at=T0),
        queued(2, "fsa:1", 1, "sent", sent_at=T0 + timedelta(days=5)),
        queued(3, "fsa:1", 2),
    ]
    assert due_messages(messages, T0 + timedelta(days=7) - timedelta(minutes=1)) == []
    assert due_messages(messages, T0 + timedelta(days=7)) == [messages[2]]


def test_due_messages_reads_the_queue_in_any_order() -> None:
    messages = [queued(3, "fsa:1", 2), queued(2, "fsa:1", 1), queued(1, "fsa:1", 0, "sent", sent_at=T0)]
    assert due_messages(messages, T0 + timedelta(days=3)) == [messages[1]]


@pytest.mark.parametrize("status", ["stopped", "sending", "suppressed"])
def test_due_messages_gives_nothing_at_or_after_a_message_that_is_stopped_sending_or_suppressed(
    status: str,
) -> None:
    later = T0 + timedelta(days=30)
    assert due_messages([queued(1, "fsa:1", 0, status), queued(2, "fsa:1", 1)], later) == []
    messages = [
        queued(1, "fsa:1", 0, "sent", sent_at=T0),
        queued(2, "fsa:1", 1, status),
        queued(3, "fsa:1", 2),
    ]
    assert due_messages(messages, later) == []


def test_due_messages_gives_nothing_for_a_message_that_failed_max_attempts_times_nor_after_it() -> None:
    assert MAX_ATTEMPTS == 3
    later = T0 + timedelta(days=30)
    assert (
        due_messages([queued(1, "fsa:1", 0, "failed", attempts=MAX_ATTEMPTS), queued(2, "fsa:1", 1)], later)
        == []
    )
    messages = [
        queued(1, "fsa:1", 0, "sent", sent_at=T0),
        queued(2, "fsa:1", 1, "failed", attempts=MAX_ATTEMPTS),
        queued(3, "fsa:1", 2),
    ]
    assert due_messages(messages, later) == []


def test_due_messages_tries_a_failed_message_again_below_max_attempts() -> None:
    intro = queued(1, "fsa:1", 0, "failed", attempts=MAX_ATTEMPTS - 1)
    assert due_messages([intro, queued(2, "fsa:1", 1)], T0) == [intro]
    follow_up = queued(2, "fsa:1", 1, "failed", attempts=1)
    sent = queued(1, "fsa:1", 0, "sent", sent_at=T0)
    assert due_messages([sent, follow_up], T0 + timedelta(days=2)) == []
    assert due_messages([sent, follow_up], T0 + timedelta(days=3)) == [follow_up]


def test_due_messages_gives_nothing_once_every_step_is_sent() -> None:
    messages = [
        queued(1, "fsa:1", 0, "sent", sent_at=T0),
        queued(2, "fsa:1", 1, "sent", sent_at=T0 + timedelta(days=3)),
        queued(3, "fsa:1", 2, "sent", sent_at=T0 + timedelta(days=7)),
    ]
    assert due_messages(messages, T0 + timedelta(days=60)) == []


def test_due_messages_treats_each_lead_on_its_own_and_orders_by_step_then_id() -> None:
    now = T0 + timedelta(days=3)
    messages = [
        queued(1, "a", 0, "sent", sent_at=T0),
        queued(2, "a", 1),  # due: the follow-up of a
        queued(5, "b", 0),  # due: the intro of b
        queued(6, "b", 1),
        queued(3, "c", 0),  # due: the intro of c
        queued(7, "d", 0, "stopped"),  # d opted out: nothing
        queued(8, "d", 1),
        queued(9, "e", 0, "sent", sent_at=T0 + timedelta(days=1)),
        queued(10, "e", 1),  # not yet: e's intro went a day later
    ]
    assert [m.id for m in due_messages(messages, now)] == [3, 5, 2]


def test_start_of_day_is_midnight_in_the_zone_of_now() -> None:
    zone = timezone(timedelta(hours=1))
    assert start_of_day(datetime(2024, 11, 5, 17, 42, 13, 999, tzinfo=zone)) == datetime(
        2024, 11, 5, tzinfo=zone
    )
    assert start_of_day(datetime(2024, 11, 5, 0, 0, 0, 1)) == datetime(2024, 11, 5)


def test_a_template_s_own_markup_is_text_in_the_html_part_too() -> None:
    rendered = render_step(step(body="Use code <WELCOME> & save"), {"business_name": "x"}, sender(), OPT_OUT)
    assert "Use code &lt;WELCOME&gt; &amp; save" in rendered.html
    assert "Use code <WELCOME> & save" in rendered.text


def test_a_domain_entry_covers_its_subdomains_but_not_look_alikes() -> None:
    listed = entries(suppression_entry("tea.co.uk", SuppressionReason.MANUAL))
    assert (
        suppressed_by("jo@mail.tea.co.uk", listed)
        == "suppressed: tea.co.uk is on the suppression list (manual)"
    )
    assert suppressed_by("jo@greentea.co.uk", listed) is None


def test_draft_sequence_writes_to_the_next_best_address_when_the_best_one_is_suppressed() -> None:
    leads = [
        lead(
            "fsa:1",
            "The Crown",
            email("jo@crown.pub", first_name="Jo"),
            email("info@crown.pub", "accept_all"),
        )
    ]
    listed = entries(suppression_entry("jo@crown.pub", SuppressionReason.HARD_BOUNCE))
    drafts, skipped = draft_sequence(
        leads, DEFAULT_STEPS, sender(), suppressions=listed, opt_out_url=lambda _: OPT_OUT
    )
    assert skipped == [] and {d.email for d in drafts} == {"info@crown.pub"}
    everyone = listed | entries(suppression_entry("crown.pub", SuppressionReason.MANUAL))
    drafts, skipped = draft_sequence(
        leads, DEFAULT_STEPS, sender(), suppressions=everyone, opt_out_url=lambda _: OPT_OUT
    )
    assert drafts == [] and [(s.email, s.status) for s in skipped] == [("jo@crown.pub", "suppressed")]
