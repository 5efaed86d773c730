#!/usr/bin/env python3
"""Orphaned Group Push mappings, found with Okta's official Python SDK (`pip install okta`, 3.x).

The detection an admin would write with the SDK: list every app, read each app's default
provisioning connection, and for each app whose provisioning is DISABLED list its Group Push
mappings; report the apps with at least one ACTIVE mapping. Apps whose connection Okta does not
expose (an error answer) cannot be DISABLED and are passed over.

Usage: sdk_orphaned_mappings.py ORG_URL API_TOKEN
Prints one JSON object: {"orphaned": [app ids, sorted], "apps": n, "errors": n}.

okta-sim serves plain HTTP on loopback: the SDK refuses a non-https org URL unless its
top-level `testing.testingDisableHttpsCheck` setting is true. The dict given to `Client` lands
under `client`, so the setting cannot go there; the SDK reads it from the environment variable
`OKTA_TESTING_TESTINGDISABLEHTTPSCHECK`, which this script sets for http URLs only.
"""

import asyncio
import json
import os
import sys

from urllib.parse import parse_qs, urlparse

from okta.client import Client as OktaClient

# Okta's largest page of apps: the fewest list requests the SDK can make.
APPS_PAGE = 200


def status_text(value):
    """An enum member or a string, as Okta's status string."""
    return getattr(value, "value", value)


def next_cursor(resp):
    """The `after` cursor of the response's `rel="next"` link, if it has one."""
    link = (resp.headers or {}).get("link") or (resp.headers or {}).get("Link") or ""
    for part in link.split(","):
        if 'rel="next"' in part:
            url = part.split(";")[0].strip().strip("<>")
            values = parse_qs(urlparse(url).query).get("after")
            return values[0] if values else None
    return None


async def list_all(fetch):
    """Every item of a listing, page after page (3.x returns no paging helper on its responses)."""
    items, resp, err = await fetch(None)
    if err:
        raise RuntimeError(f"listing failed: {err}")
    items = list(items or [])
    cursor = next_cursor(resp)
    while cursor:
        page, resp, err = await fetch(cursor)
        if err:
            raise RuntimeError(f"listing failed: {err}")
        items.extend(page or [])
        cursor = next_cursor(resp)
    return items


async def has_active_mapping(client, app_id):
    try:
        mappings = await list_all(
            lambda after: client.list_group_push_mappings(app_id, after=after)
        )
    except RuntimeError:
        return None
    return any(status_text(m.status) == "ACTIVE" for m in mappings)


async def detect(org_url, token):
    # 3.4.6 builds the header its generated API client sends as the authorization mode and the
    # token joined without a space ("SSWS<token>"); a leading space makes it "SSWS <token>".
    config = {"orgUrl": org_url, "token": " " + token}
    if org_url.startswith("http://"):
        os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"
    errors = 0
    orphaned = []
    async with OktaClient(config) as client:
        apps = await list_all(lambda after: client.list_applications(limit=APPS_PAGE, after=after))
        for app in apps:
            connection, _, err = await client.get_default_provisioning_connection_for_application(
                app.id
            )
            if err or connection is None:
                errors += 1
                continue
            if status_text(connection.status) != "DISABLED":
                continue
            active = await has_active_mapping(client, app.id)
            if active is None:
                errors += 1
            elif active:
                orphaned.append(app.id)
    return {"orphaned": sorted(orphaned), "apps": len(apps), "errors": errors}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    result = asyncio.run(detect(sys.argv[1], sys.argv[2]))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
