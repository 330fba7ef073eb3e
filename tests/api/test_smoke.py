def test_health_answers_without_token(client):
    response = client.get("/api/v1/health", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json()["node"] == "test-node"
