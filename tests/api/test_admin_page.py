"""The admin page's user list: where each user is signed in, the counters in the site's order."""

from __future__ import annotations

import re


def test_a_users_counters_are_listed_in_the_sites_order(api):
    for counter in ("c10", "c2", "c13"):
        api.counter_token(counter)  # c1 is signed in already
    api.client.cookies.set("madoguchi_session", api.tokens["admin"])
    try:
        page = api.client.get("/staff/admin")
    finally:
        api.client.cookies.clear()
    assert page.status_code == 200
    row = re.search(r'<tr data-user="counter-user".*?</tr>', page.text, re.S)
    assert row is not None
    cell = re.search(r'<td class="signed-in">(.*?)</td>', row.group(0), re.S)
    assert cell is not None and re.search(r"c1, c2, c10, c13", cell.group(1)), cell
