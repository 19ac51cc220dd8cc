"""Program leads in a real browser: read the dashboard (its figures the API's), download a table as
CSV, set a target and change it, ask a what-if that a real worker answers and find it among those
asked before; and no page of theirs names a youth, a family, a caregiver or an address."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from arq.worker import Worker
from playwright.async_api import Browser, expect
from sqlalchemy import select

from placement.capacity.models import CapacityTarget
from placement.core.audit import AuditEntry
from placement.core.resources import Resources
from placement.worker import snapshot_capacity
from tests.capacity.scene import build_scene
from tests.conftest import FakeClock
from tests.factories import API, make_safe_house
from tests.web.test_page_guards import signed_in
from tests.web.test_staff_pages import signed_in_page


async def test_a_program_lead_reads_the_dashboard_downloads_a_table_sets_a_target_and_asks_a_what_if(
    client: httpx.AsyncClient,
    sign_in: Any,
    resources: Resources,
    browser: Browser,
    site: str,
    worker: Worker,
    tmp_path: Path,
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    await make_safe_house(client, staff, beds=3)
    await snapshot_capacity({"resources": resources})
    api = (await client.get(f"{API}/capacity?by=region", headers=lead.headers)).json()

    page = await signed_in_page(browser, site, lead.username, "/capacity-dashboard")
    await expect(page.get_by_role("heading", name="Capacity dashboard")).to_be_visible()
    charts = page.locator("figure.chart svg.pygal-chart")  # on the server: now, history, training
    assert await charts.count() == 3
    now_chart = charts.first  # a bar group per region, its labels the regions' names
    for region in ("Boston", "Central", "Western"):
        await expect(now_chart.get_by_text(region, exact=True).first).to_be_attached()
    table = page.locator("table#capacity")
    headers = await table.locator("thead th").all_inner_texts()
    statewide = await table.locator("tbody tr").last.locator("th, td").all_inner_texts()
    shown = dict(zip(headers, statewide, strict=True))
    assert shown["Group"] == "statewide"
    assert shown["Beds: available"] == str(api["statewide"]["beds"]["available"]) != "0"
    assert shown["Places: licensed"] == str(api["statewide"]["places"]["licensed"])
    assert shown["Households"] == str(api["statewide"]["households"])

    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Download capacity by region (CSV)").click()
    saved = tmp_path / "capacity.csv"
    await (await downloading.value).save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    column = rows[0].index("Beds: available")
    last = rows[-1]
    assert last[rows[0].index("Group")] == "statewide"
    assert last[column] == str(api["statewide"]["beds"]["available"])

    await page.get_by_role("link", name="Targets", exact=True).first.click()
    await page.get_by_label("Title").fill("Five more beds")
    await page.get_by_label("Measure").select_option("safe_house_beds")
    await page.get_by_label("Where").select_option("statewide")
    await page.get_by_label("Value").fill("8")
    await page.get_by_label("Due on").fill("2030-06-30")
    await page.get_by_role("button", name="Set target").click()
    await expect(page.get_by_role("status")).to_have_text("Target set.")
    await expect(page.get_by_role("rowheader", name="Five more beds")).to_be_visible()
    async with resources.sessionmaker() as session:
        target = await session.scalar(select(CapacityTarget).where(CapacityTarget.title == "Five more beds"))
    assert target is not None
    assert (target.metric, target.value, target.scope) == ("safe_house_beds", 8, "statewide")

    await page.goto(f"{site}/capacity-what-if")
    await page.get_by_label("Where").select_option("statewide")  # reopen paused homes statewide
    await page.get_by_role("button", name="Ask what if").click()
    await expect(page.get_by_role("heading", name="The answer")).to_be_visible()
    for _ in range(180):  # the page says where the run is; Refresh reads it again (no script)
        refresh = page.get_by_role("link", name="Refresh")
        if not await refresh.count():
            break
        await asyncio.sleep(0.5)
        await refresh.click()
    await expect(page.get_by_role("status")).to_contain_text("Answered")
    await expect(page.locator("table#answer")).to_contain_text("statewide")
    await page.context.close()


async def test_no_lead_page_names_a_youth_a_family_a_caregiver_or_an_address(
    app: Any, client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock, worker: Worker
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    scene = await build_scene(client, resources, staff, await sign_in("caseworker"), clock())
    await snapshot_capacity({"resources": resources})
    browser = await signed_in(app, lead.username)
    try:
        form = {"reopen": "statewide", "_csrf_token": browser.cookies["csrftoken"]}
        asked = await browser.post("/capacity-what-if", data=form)
        assert asked.status_code == 303, asked.text
        answer_page = asked.headers["location"]
        for _ in range(180):
            answered = await browser.get(answer_page)
            if 'id="answer"' in answered.text:
                break
            await asyncio.sleep(0.5)
        target = {
            "title": "Beds",
            "metric": "safe_house_beds",
            "scope": "statewide",
            "value": "9",
            "due_on": "2030-01-01",
            "_csrf_token": browser.cookies["csrftoken"],
        }
        assert (await browser.post("/capacity-targets", data=target)).status_code == 303
        targets = (await client.get(f"{API}/capacity/targets", headers=lead.headers)).json()["rows"]
        paths = [
            *(f"/capacity-dashboard?by={by}" for by in ("region", "county", "kind")),
            *(f"/capacity-dashboard/capacity.csv?by={by}" for by in ("region", "county", "kind")),
            *(f"/capacity-dashboard/history.csv?by={by}" for by in ("region", "county", "kind")),
            "/capacity-dashboard/targets.csv",
            "/capacity-dashboard/unmet-need.csv",
            "/capacity-dashboard/training.csv",
            "/capacity-targets",
            f"/capacity-targets/{targets[0]['id']}",
            "/capacity-what-if",
            answer_page,
            f"{answer_page}/answer.csv",
        ]
        for path in paths:
            answer = await browser.get(path)
            assert answer.status_code == 200, (path, answer.text[:300])
            leaked = [secret for secret in scene.secrets if secret in answer.text]
            assert leaked == [], path
        assert 'id="answer"' in answered.text
    finally:
        await browser.aclose()


async def test_a_regional_target_without_its_region_is_refused_with_a_page_and_not_stored(
    app: Any, sign_in: Any, resources: Resources
) -> None:
    lead = await sign_in("program_lead")
    browser = await signed_in(app, lead.username)
    try:
        form = {
            "title": "Western homes",
            "metric": "households",
            "scope": "region",
            "value": "4",
            "due_on": "2030-01-01",
            "_csrf_token": browser.cookies["csrftoken"],
        }
        refused = await browser.post("/capacity-targets", data=form)
        assert refused.status_code == 422 and "text/html" in refused.headers["content-type"]
        assert "region_id for a region" in refused.text
    finally:
        await browser.aclose()
    async with resources.sessionmaker() as session:
        stored = await session.scalar(select(CapacityTarget).where(CapacityTarget.title == "Western homes"))
    assert stored is None


async def make_target(client: httpx.AsyncClient, lead: Any, **fields: Any) -> dict[str, Any]:
    body = {"title": "Five more beds", "metric": "safe_house_beds", "scope": "statewide", "value": 8}
    made = await client.post(
        f"{API}/capacity/targets", json={**body, "due_on": "2030-06-30", **fields}, headers=lead.headers
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


async def test_a_program_lead_changes_a_target_from_the_targets_page_and_sees_the_change(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, browser: Browser, site: str
) -> None:
    lead = await sign_in("program_lead")
    made = await make_target(client, lead, note="Agreed with the regions")
    page = await signed_in_page(browser, site, lead.username, "/capacity-targets")

    await page.get_by_role("link", name="Five more beds").click()
    await expect(page.get_by_role("heading", name="Change a target")).to_be_visible()
    await expect(page.get_by_label("Value (at least)")).to_have_value("8")
    await page.get_by_label("Title").fill("Six more beds")
    await page.get_by_label("Value (at least)").fill("9.5")
    await page.get_by_label("Due on").fill("2031-01-31")
    await page.get_by_label("Note").fill("")
    await page.get_by_role("button", name="Save changes").click()

    await expect(page.get_by_role("status")).to_have_text("Target changed.")
    await expect(page.get_by_role("heading", name="Six more beds")).to_be_visible()
    await expect(page.locator("dl.standing")).to_contain_text("at least 9.5 by 2031-01-31")
    read = (await client.get(f"{API}/capacity/targets/{made['id']}", headers=lead.headers)).json()
    assert (read["title"], read["value"], read["due_on"], read["note"]) == (
        "Six more beds",
        9.5,
        "2031-01-31",
        None,
    )
    assert (read["metric"], read["scope"]) == ("safe_house_beds", "statewide")  # these stay
    async with resources.sessionmaker() as session:
        actions = list(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == made["id"]))
        )
    assert sorted(actions) == ["create_target", "update_target"]

    await page.get_by_role("link", name="All targets").click()
    await expect(page.get_by_role("rowheader", name="Six more beds")).to_be_visible()
    await page.context.close()


async def test_a_target_change_the_api_would_refuse_is_a_page_and_changes_nothing(
    app: Any, client: httpx.AsyncClient, sign_in: Any
) -> None:
    lead, staff = await sign_in("program_lead"), await sign_in("placement_staff")
    made = await make_target(client, lead)
    browser = await signed_in(app, lead.username)
    try:
        token = browser.cookies["csrftoken"]
        good = {"title": "Beds", "value": "8", "due_on": "2030-06-30", "note": "", "_csrf_token": token}
        blank_title = await browser.post(f"/capacity-targets/{made['id']}", data={**good, "title": " "})
        too_big = await browser.post(f"/capacity-targets/{made['id']}", data={**good, "value": "2000000"})
        nowhere = await browser.post(f"/capacity-targets/{uuid.uuid4()}", data=good)
    finally:
        await browser.aclose()
    for refused, status in ((blank_title, 400), (too_big, 400), (nowhere, 404)):
        assert refused.status_code == status and "text/html" in refused.headers["content-type"], refused.text
    assert "No target with id" in nowhere.text
    read = (await client.get(f"{API}/capacity/targets/{made['id']}", headers=lead.headers)).json()
    assert (read["title"], read["value"]) == ("Five more beds", 8)

    staff_browser = await signed_in(app, staff.username)
    try:  # placement staff read the targets but change none: no link to a form they may not use
        listed = await staff_browser.get("/capacity-targets")
    finally:
        await staff_browser.aclose()
    assert listed.status_code == 200 and "Five more beds" in listed.text
    assert f"/capacity-targets/{made['id']}" not in listed.text


async def test_the_what_if_page_lists_the_runs_asked_newest_first_each_linked_to_its_answer(
    app: Any, client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, lead, admin = (
        await sign_in("placement_staff"),
        await sign_in("program_lead"),
        await sign_in("admin"),
    )
    await make_safe_house(client, staff, beds=2)
    browser = await signed_in(app, lead.username)
    try:
        asked = await browser.post(
            "/capacity-what-if", data={"reopen": "statewide", "_csrf_token": browser.cookies["csrftoken"]}
        )
        assert asked.status_code == 303, asked.text
        first = asked.headers["location"]
        for _ in range(180):
            if 'id="answer"' in (await browser.get(first)).text:
                break
            await asyncio.sleep(0.5)
        later = await client.post(
            f"{API}/capacity/what-if", json={"training": {"region": "Boston"}}, headers=admin.headers
        )
        assert later.status_code == 202, later.text

        shown = await browser.get("/capacity-what-if")
        rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", shown.text, re.S)
        opened = await browser.get(first)
    finally:
        await browser.aclose()
    assert shown.status_code == 200 and "Asked before (2)" in shown.text
    assert len(rows) == 2
    assert f'href="/capacity-what-if/{later.json()["id"]}"' in rows[0] and admin.username in rows[0]
    assert "Homes in Boston that lack only training" in rows[0]
    assert f'href="{first}"' in rows[1] and lead.username in rows[1]
    assert "Paused homes reopen statewide." in rows[1] and "<td>answered</td>" in rows[1]
    assert opened.status_code == 200 and 'id="answer"' in opened.text


async def test_the_what_ifs_asked_before_are_listed_ten_a_page(
    app: Any, client: httpx.AsyncClient, sign_in: Any
) -> None:
    lead = await sign_in("program_lead")
    for _ in range(12):  # no worker: they wait their turn
        answer = await client.post(f"{API}/capacity/what-if", json={"reopening": {}}, headers=lead.headers)
        assert answer.status_code == 202, answer.text
    browser = await signed_in(app, lead.username)
    try:
        first = await browser.get("/capacity-what-if")
        second = await browser.get("/capacity-what-if?offset=10")
    finally:
        await browser.aclose()
    assert (
        "What-ifs 1\N{EN DASH}10 of 12" in first.text and 'href="/capacity-what-if?offset=10"' in first.text
    )
    assert "What-ifs 11\N{EN DASH}12 of 12" in second.text and 'rel="prev"' in second.text
    assert first.text.count("waiting its turn") == 10 and second.text.count("waiting its turn") == 2
