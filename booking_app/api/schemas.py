"""Marshmallow schemas shared by the API blueprints."""

from __future__ import annotations

from marshmallow import Schema, fields


class UtcDateTime(fields.DateTime):
    """An ISO 8601 instant rendered in UTC with a trailing Z."""

    def _serialize(self, value, attr, obj, **kwargs):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    # Where the request was read ("json", "query", ...), then each field's list of messages; a body that
    # is not JSON at all has a list of messages in place of the fields.
    details = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        metadata={"description": 'On 422 (and a 400 for a body that is not JSON): the messages for each '
                                 'field by location, e.g. {"json": {"start": ["Not a valid datetime."]}}.'},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    timezone = fields.String()
    active = fields.Boolean()
