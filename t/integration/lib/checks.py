"""The Python test scripts' checks: one "ok   DESC" or "FAIL DESC" line each (the
form lib/common.sh's tg_check prints), the detail of a failure indented below it,
and the counts for the summary line.

    check = Checks()
    check("the answer is 42", got == 42, f"got {got}")
    print(check.summary("my-suite"))       # "my-suite: 1 passed, 0 failed"
    sys.exit(check.exit_status())
"""


class Checks:
    def __init__(self, detail_lines=12, line_width=300):
        self.passed = self.failed = 0
        self._lines, self._width = detail_lines, line_width

    def __call__(self, desc, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {desc}")
        else:
            self.failed += 1
            print(f"FAIL {desc}")
            for line in str(detail).splitlines()[:self._lines]:
                print(f"    | {line[:self._width]}")
        return bool(ok)

    def summary(self, name):
        return f"{name}: {self.passed} passed, {self.failed} failed"

    def exit_status(self):
        return 1 if self.failed else 0
