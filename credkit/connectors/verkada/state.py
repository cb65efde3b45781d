"""A user's credentials as Command answers them, keyed as credkit keys its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from credkit.directory import card_key, entry_code_key, plate_key
from credkit.formats import REGISTRY


def card_type_from_api(name: str | None) -> str | None:
    """The registry's name for a type as Command answers it (a display name, or an internal
    one such as "HID" for Standard 26-bit Wiegand); None for a type credkit does not know."""
    card_format = REGISTRY.find(name or "")
    return card_format.name if card_format else None


def card_from_api(card: dict[str, Any]) -> str | None:
    """The credential key of a card object from Command's answer."""
    name = card_type_from_api(card.get("type"))
    if name is None:
        return None
    number = card.get("card_number")
    facility = card.get("facility_code")
    if number in (None, "") and card.get("card_number_hex"):
        card_format = REGISTRY.get(name)
        if card_format.layout is not None:
            decoded = card_format.decode(card["card_number_hex"])
            facility, number = decoded.facility_code, decoded.card_number
        else:
            number = int(card["card_number_hex"], 16)
    if number in (None, ""):
        return None
    has_facility = REGISTRY.get(name).has_facility_code
    return card_key(name, facility if has_facility else None, number)


@dataclass
class CommandCredentials:
    """One user's cards, license plates and entry code, as Command holds them now."""

    user_id: str
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)  # by credential key
    plates: dict[str, dict[str, Any]] = field(default_factory=dict)  # by credential key
    entry_code: str | None = None

    @classmethod
    def from_api(cls, answer: dict[str, Any]) -> CommandCredentials:
        cards = {}
        for card in answer.get("cards") or []:
            key = card_from_api(card)
            if key is not None:
                cards[key] = card
        plates = {
            plate_key(str(plate["license_plate_number"]).upper()): plate
            for plate in answer.get("license_plates") or []
        }
        return cls(answer["user_id"], cards, plates, answer.get("entry_code") or None)

    def holds(self, key: str) -> bool:
        if key.startswith("entry_code:"):
            return self.entry_code is not None and entry_code_key(self.entry_code) == key
        return key in self.cards or key in self.plates

    def status(self, key: str) -> str | None:
        """active or inactive, None when the user does not hold it (entry codes are active)."""
        if not self.holds(key):
            return None
        if key.startswith("entry_code:"):
            return "active"
        found = self.cards.get(key) or self.plates[key]
        return "active" if found.get("active", True) else "inactive"
