"""Demo volunteers with valid, obviously fake identities (issue 3 point 7)."""


def load():
    pass
