"""The one error type the CLI turns into a single `error: <where>: <what>` line."""


class TwopassError(Exception):
    """A user-facing failure: names the file (or module) and what is wrong with it."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message

    def lines(self) -> list[str]:
        """What the user is told, one `error:` line each."""
        return [str(self)]


class InputError(TwopassError):
    """A bad input file: unreadable, malformed, or of the wrong kind."""
