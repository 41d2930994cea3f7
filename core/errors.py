"""The one shape of bad-input errors in every service: field → translated message, nothing written.

    raise FieldErrors({"phone": _l("Enter a mainland mobile number …")})
    raise FieldErrors(_l("This activity is not open for sign-up."))   # not about one field: "__all__"

Views show each message next to its field (``errors`` keeps the order given) and the others at the top.
"""


class FieldErrors(Exception):
    def __init__(self, errors):
        if not isinstance(errors, dict):
            errors = {"__all__": errors}
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors

    def messages(self) -> list[str]:
        return [str(m) for m in self.errors.values()]
