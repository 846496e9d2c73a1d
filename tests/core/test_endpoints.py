import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_spof import Replicas, ReplicaSetError, fs, s3, sql
from airflow_spof.core.endpoints import Endpoint, required_acks


def three_regions(**kwargs) -> Replicas:
    return Replicas(
        s3("aws_use1", bucket="orders-use1", region="us-east-1"),
        s3("aws_euw1", bucket="orders-euw1", region="eu-west-1"),
        fs("/mnt/nfs/orders", region="onprem"),
        **kwargs,
    )


def test_public_surface_reads_like_the_docs() -> None:
    orders = three_regions(write_consistency="quorum")
    assert orders.required_acks == 2
    assert [ep.kind for ep in orders] == ["s3", "s3", "fs"]
    assert orders["fs:/mnt/nfs/orders"].region == "onprem"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"write_consistency": 4}, "exceeds the 3 replica"),
        ({"write_consistency": 0}, "at least 1"),
        ({"write_consistency": "most"}, "unknown write_consistency"),
        ({"write_consistency": True}, "one/quorum/all"),
        ({"min_regions": 4}, "at least 4 distinct regions, has 3"),
    ],
)
def test_invalid_sets_fail_at_construction(kwargs, message) -> None:
    with pytest.raises(ReplicaSetError, match=message):
        three_regions(**kwargs)


def test_empty_set_is_rejected() -> None:
    with pytest.raises(ReplicaSetError, match="at least one endpoint"):
        Replicas()


def test_duplicate_names_and_duplicate_targets_are_rejected() -> None:
    a = s3("aws", bucket="b", region="r1")
    with pytest.raises(ReplicaSetError, match="duplicate endpoint name"):
        Replicas(a, a)
    with pytest.raises(ReplicaSetError, match="same target"):
        Replicas(a, s3("aws", bucket="b", region="r2", name="other"))


@pytest.mark.parametrize("other", ["/data/replica/", "/data//replica", "/data/./replica"])
def test_one_directory_spelled_twice_is_one_target(other: str) -> None:
    """Two spellings of one directory would count one disk as two acknowledgements."""
    with pytest.raises(ReplicaSetError, match="same target"):
        Replicas(fs("/data/replica"), fs(other), write_consistency="all")


def test_unknown_kind_and_missing_parts_are_rejected() -> None:
    with pytest.raises(ReplicaSetError, match="unknown kind"):
        Endpoint(name="x", kind="ftp")
    with pytest.raises(ReplicaSetError, match="bucket is required"):
        s3("aws", bucket="")
    with pytest.raises(ReplicaSetError, match="table is required"):
        sql("pg", table="")


def test_round_trip_through_dict() -> None:
    orders = three_regions(write_consistency=2, min_regions=2)
    again = Replicas.from_dict(orders.to_dict())
    assert again.to_dict() == orders.to_dict()
    assert again.endpoints == orders.endpoints


@given(n=st.integers(1, 50))
def test_quorum_is_a_strict_majority(n: int) -> None:
    w = required_acks("quorum", n)
    assert 2 * w > n  # two quorums always overlap: a read quorum sees the last write
    assert 2 * (w - 1) <= n  # and it is the smallest such number


@given(n=st.integers(1, 50), data=st.data())
def test_integer_consistency_is_bounded_by_replicas(n: int, data) -> None:
    w = data.draw(st.integers(-5, 60))
    if 1 <= w <= n:
        assert required_acks(w, n) == w
    else:
        with pytest.raises(ReplicaSetError):
            required_acks(w, n)


@given(n=st.integers(1, 50))
def test_one_and_all_bracket_quorum(n: int) -> None:
    assert (
        required_acks("one", n) == 1 <= required_acks("quorum", n) <= required_acks("all", n) == n
    )


def test_regions_are_optional_unless_a_minimum_is_asked_for() -> None:
    assert len(Replicas(fs("/a"), fs("/b"))) == 2
    with pytest.raises(ReplicaSetError, match="at least 2 distinct regions, has 0"):
        Replicas(fs("/a"), fs("/b"), min_regions=2)
