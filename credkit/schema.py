"""The pandera CredentialRow model: the field rules of a credential CSV row
(credkit.rules.fields) as a pandera schema, for whoever validates rows with pandera."""

import pandera.pandas as pa
from pandera.extensions import register_check_method
from pandera.typing import Series

from credkit.rules.fields import (
    CHECK_FINDINGS,
    FIELD_CHECKS,
    HEX_NOISE,
    field_findings,
    normalize_plate,
    parse_modified,
    strip_hex_noise,
)

for _check in FIELD_CHECKS:
    register_check_method(check_type="vectorized")(_check)


class CredentialRow(pa.DataFrameModel):
    """The per-field rules of a credential CSV row, every column read as text."""

    first_name: Series[str] = pa.Field(alias="First Name")
    last_name: Series[str] = pa.Field(alias="Last Name")
    user_id: Series[str] = pa.Field(alias="User ID")
    external_id: Series[str] = pa.Field(alias="External ID")
    employee_id: Series[str] = pa.Field(alias="Employee ID")
    email: Series[str] = pa.Field(alias="Email")
    card_type: Series[str] = pa.Field(alias="Card Type")
    facility_code: Series[str] = pa.Field(alias="Facility Code", digits_only=(), not_scientific=())
    card_number: Series[str] = pa.Field(alias="Card Number", digits_only=(), not_scientific=())
    card_number_hex: Series[str] = pa.Field(alias="Card Number Hex", hex_digits=())
    license_plate: Series[str] = pa.Field(alias="License Plate", license_plate=())
    entry_code: Series[str] = pa.Field(alias="Entry Code", entry_code=(), entry_code_length=())
    credential_status: Series[str] = pa.Field(alias="Credential Status", credential_status=())
    modified: Series[str] = pa.Field(alias="Modified", modified_time=())

    class Config:
        strict = True
        ordered = False


__all__ = [
    "CHECK_FINDINGS",
    "HEX_NOISE",
    "CredentialRow",
    "field_findings",
    "normalize_plate",
    "parse_modified",
    "strip_hex_noise",
]
