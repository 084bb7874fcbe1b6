"""Services: the only code that writes; one public function is one transaction."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal to show the user: a complete sentence and a machine-readable code."""

    def __init__(self, message: str, code: str = "invalid", status: int = 422, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field
