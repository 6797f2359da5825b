from tests.support.letters import letter


def test_deliver_and_read(client, sender, bsns):
    r = client.post("/api/v1/messages", json=letter(bsns[0], "R-1"), headers=sender.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "unreachable"
    assert [e["type"] for e in body["events"]] == ["accepted", "unreachable"]
    r2 = client.post("/api/v1/messages", json=letter(bsns[0], "R-1"), headers=sender.headers)
    assert r2.status_code == 200 and r2.json()["id"] == body["id"]
    r3 = client.get(f"/api/v1/messages/{body['id']}", headers=sender.headers)
    assert r3.status_code == 200
    feed = client.get("/api/v1/events", headers=sender.headers).json()
    assert [e["type"] for e in feed["events"]] == ["accepted", "unreachable"]
    batch = client.post(
        "/api/v1/message-batches",
        headers=sender.headers,
        json={
            "messages": [
                letter(bsns[1], "B-1"),
                letter("123456789", "B-2"),
                letter(bsns[0], "R-1", subject="other"),
            ]
        },
    )
    assert [r["outcome"] for r in batch.json()["results"]] == ["created", "rejected", "rejected"]
