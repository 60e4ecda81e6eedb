"""The one test identity used for card data everywhere in the suite.

The hygiene fixture in tests/conftest.py fails any test whose logs contain these strings; tests of
exports, MQTT payloads, printed tickets, the database file and the status page search for them too.
"""

TEST_HOLDER_NAME = "肥後　春子"  # family name, U+3000, given name, as on the card
TEST_HOLDER_ADDRESS = "熊本県熊本市中央区手取本町１番１号"
TEST_HOLDER_BIRTH_DATE = "1958-04-12"  # card stores 19580412
TEST_HOLDER_BIRTH_DATE_CARD = "19580412"
TEST_HOLDER_SEX = "2"
TEST_PIN = "4827"

SECRETS = (TEST_HOLDER_NAME, TEST_HOLDER_ADDRESS, TEST_HOLDER_BIRTH_DATE, TEST_HOLDER_BIRTH_DATE_CARD)


def leaked_in(text: str) -> list[str]:
    """Which of the test holder's personal items appear in ``text`` (also family/given name alone)."""
    family, given = TEST_HOLDER_NAME.split("\u3000")
    probes = (*SECRETS, family + given, family + " " + given)
    return [p for p in probes if p in text]
