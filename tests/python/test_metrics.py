"""`GET /metrics` read by the Prometheus project's own parser (prometheus_client's OpenMetrics
parser, which refuses what a Prometheus server would): every series the README lists is there,
with the labels and types it documents, after requests that feed each of them."""

import os
import urllib.request

import gitlab
from prometheus_client.openmetrics.parser import text_string_to_metric_families

URL = os.environ["GITLAB_URL"]
TOKEN = os.environ["GITLAB_TOKEN"]


def test_metrics_are_valid_openmetrics():
    gl = gitlab.Gitlab(URL, private_token=TOKEN)
    gl.auth()
    gl.users.list(per_page=2)
    try:
        gl.users.get(999999)
    except gitlab.exceptions.GitlabGetError:
        pass
    query = urllib.request.Request(
        f"{URL}/graphql",
        data=b'{"query": "query Metrics { currentUser { id } }"}',
        headers={"Content-Type": "application/json", "PRIVATE-TOKEN": TOKEN},
    )
    with urllib.request.urlopen(query) as res:
        assert res.status == 200
    with urllib.request.urlopen(f"{URL}/metrics") as res:
        assert res.headers["Content-Type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8"
        text = res.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    expected = {
        "usergraph_http_requests": "counter",
        "usergraph_http_request_duration_seconds": "histogram",
        "usergraph_graphql_operations": "counter",
        "usergraph_errors": "counter",
        "usergraph_signin_password_checks": "counter",
        "usergraph_db_statements": "counter",
        "usergraph_db_slow_statements": "counter",
        "usergraph_db_statement_seconds": "counter",
        "usergraph_db_pool_connections": "gauge",
        "usergraph_db_pool_idle_connections": "gauge",
    }
    assert {name: families[name].type for name in expected if name in families} == expected
    requests = {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for s in families["usergraph_http_requests"].samples
    }
    assert requests[("/api/v4/users", "GET", "200")] >= 1
    assert requests[("/api/v4/users/{id}", "GET", "404")] >= 1
    buckets = [
        s for s in families["usergraph_http_request_duration_seconds"].samples
        if s.name.endswith("_bucket") and s.labels["route"] == "/api/v4/users"
    ]
    assert buckets and buckets[-1].labels["le"] == "+Inf" and buckets[-1].value >= 1
    operations = {(s.labels["operation"], s.labels["kind"]): s.value for s in families["usergraph_graphql_operations"].samples}
    assert operations[("Metrics", "query")] == 1
    errors = {s.labels["code"]: s.value for s in families["usergraph_errors"].samples}
    assert errors["404"] >= 1
    statements = families["usergraph_db_statements"].samples[0]
    assert statements.name == "usergraph_db_statements_total" and statements.value > 0
    assert families["usergraph_db_pool_connections"].samples[0].value >= 1
