"""Reading and validating what visitors send: the subscribe and preferences forms (and the API's bodies).

Validation never looks at the database, so its answer cannot reveal whether someone is subscribed.
Each error names the field it belongs to (the id of its input in the page), and its message is an
English msgid translated when the page is rendered. What the visitor typed is kept to refill the form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from newsroom.config import Settings
from newsroom.subscribers.store import FREQUENCIES, Channel, Subscription

# Numbers written without a country code are read as numbers of this region (the sample newsroom
# is a US state's); anything starting with + or 00 is international.
DEFAULT_PHONE_REGION = "US"
MAX_ADDRESS = 320


def N_(message: str) -> str:
    """Mark a string for the catalog; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Address:
    """A validated email (normalised, lower-cased) or mobile number (E.164)."""

    channel: Channel
    value: str


@dataclass(frozen=True)
class Choice:
    """What a person wants: language, topics (empty means everything) and how often."""

    language: str
    topics: tuple[str, ...] = ()
    frequency: str = "immediate"

    def subscription(self, channel: Channel) -> Subscription:
        # Texts go out as news is published; digests are an email thing.
        frequency = "immediate" if channel == "sms" else self.frequency
        return Subscription(channel=channel, frequency=frequency, topics=self.topics)


@dataclass
class Errors:
    """Field id -> message (an English msgid), in the order the fields appear on the page."""

    by_field: dict[str, str] = field(default_factory=dict)

    def add(self, field_id: str, message: str) -> None:
        self.by_field.setdefault(field_id, message)

    def __bool__(self) -> bool:
        return bool(self.by_field)


def read_address(text: str, errors: Errors, field_id: str = "address") -> Address | None:
    """An email if the text has an @, otherwise a mobile number; None (and an error) when neither."""
    text = text.strip()
    if not text:
        errors.add(field_id, N_("Enter your email address or mobile number."))
        return None
    if len(text) > MAX_ADDRESS:
        errors.add(field_id, N_("This is too long to be an email address or a phone number."))
        return None
    if "@" in text or not any(ch.isdigit() for ch in text):
        return read_email(text, errors, field_id)
    return read_phone(text, errors, field_id)


def read_email(text: str, errors: Errors, field_id: str) -> Address | None:
    try:
        checked = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError:
        errors.add(field_id, N_("Enter an email address like name@example.com."))
        return None
    return Address("email", checked.normalized.lower())


def read_phone(text: str, errors: Errors, field_id: str) -> Address | None:
    text = text.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        errors.add(field_id, N_("Enter a mobile number like 212 555 0123, or +1 212 555 0123."))
        return None
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        errors.add(field_id, N_("This number cannot receive text messages. Enter a mobile number."))
        return None
    return Address("sms", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def read_choice(form: Mapping[str, str], topics: Sequence[str], settings: Settings, errors: Errors) -> Choice:
    """Language, topics and frequency from form fields `language`, `scope`, `topics`, `frequency`."""
    language = form.get("language", "")
    if language not in settings.language_codes:
        errors.add("language", N_("Choose a language from the list."))
        language = settings.site.default_language
    scope = form.get("scope", "all")
    chosen = tuple(sorted({topic for topic in topics if topic in settings.topics}))
    if scope not in ("all", "some"):
        errors.add("scope-all", N_("Choose all news or some topics."))
    if len(chosen) != len(set(topics)):
        errors.add("scope-some", N_("Choose topics from the list."))
    if scope == "some" and not chosen:
        errors.add("scope-some", N_("Choose at least one topic, or choose all news."))
    frequency = form.get("frequency", "immediate")
    if frequency not in FREQUENCIES:
        errors.add("frequency-immediate", N_("Choose how often you want email."))
        frequency = "immediate"
    return Choice(language=language, topics=chosen if scope == "some" else (), frequency=frequency)


@dataclass(frozen=True)
class PreferencesForm:
    """The preferences page: the choice, and which channels (with the number for texts)."""

    choice: Choice
    email: bool
    sms: bool
    phone: Address | None


def read_preferences(
    form: Mapping[str, str],
    topics: Sequence[str],
    settings: Settings,
    has_email: bool,
    errors: Errors,
) -> PreferencesForm:
    choice = read_choice(form, topics, settings, errors)
    wants_email = has_email and form.get("email") == "on"
    wants_sms = form.get("sms") == "on"
    phone: Address | None = None
    if wants_sms:
        phone = read_phone(form.get("phone", ""), errors, "phone") if form.get("phone", "").strip() else None
        if phone is None and "phone" not in errors.by_field:
            errors.add("phone", N_("Enter the mobile number for text messages."))
    if not wants_email and not wants_sms and not errors:
        errors.add("channel-email" if has_email else "channel-sms", N_(
            "Choose email, text messages or both. To stop everything, use the unsubscribe button."
        ))  # fmt: skip
    return PreferencesForm(choice=choice, email=wants_email, sms=wants_sms, phone=phone)
