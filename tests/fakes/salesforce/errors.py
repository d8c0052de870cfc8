"""Salesforce's error answers."""


# Errors ------------------------------------------------------------------------------------------


class SalesforceError(Exception):
    """A Salesforce API error; answered as ``[{"message", "errorCode", "fields"}]``."""

    def __init__(self, status, code, message, fields=None):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def body(self):
        error = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            error["fields"] = self.fields
        return [error]

    def collection_error(self):
        """The shape of one record's error inside an sObject collection answer."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}


class _OAuthError(Exception):
    def __init__(self, error, description):
        super().__init__(description)
        self.error, self.description = error, description


def _not_found():
    return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
