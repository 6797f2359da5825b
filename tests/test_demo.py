"""The demo seeds organisations with working keys and letters in test mailboxes."""

from postvak.demo import demo_bsns, seed_demo


def test_demo_seeds_organisations_and_letters(runtime, client):
    lines = seed_demo(runtime)
    keys = [line.split("API key ")[1].split()[0] for line in lines if "API key " in line]
    assert len(keys) == 3
    for key in keys:
        feed = client.get("/api/v1/events?limit=1000", headers={"Authorization": f"Bearer {key}"}).json()
        assert len({e["messageId"] for e in feed["events"]}) == 5
    assert all(b.startswith("9999") for b in demo_bsns(5))
    assert not any(b in "\n".join(lines) for b in demo_bsns(5))
