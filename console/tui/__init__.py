"""The Textual console: the App with its four screens (`app`) and the start-up checks
that turn a mistake into one line before a screen is drawn (`start`)."""
