"""The same visit handlers for the child-process baseline (no test_rig import)."""


class PingHandler:
    def __init__(self, config=None):
        self.left = int((config or {}).get("n", 1000))

    def enter(self, ctx):
        return "Connecting"

    def execute(self, ctx):
        self.left -= 1
        return "Pong" if self.left > 0 else "Completed"

    def exit(self, ctx):
        return None
