"""The wall's search index made on first need: once, on one thread, the same answers."""

from __future__ import annotations

import threading

import pytest

from exhibits.wall.ondemand import SearchOnDemand
from exhibits.wall.search import SearchIndex
from kiosk.collection import load_collection, write_demo


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ondemand-collection")
    write_demo(folder, count=200, seed=4)
    return load_collection(folder)


class CountedBuild:
    """The real build, counted; held at its start until `go` is set (a slow build)."""

    def __init__(self, *, fail_first: bool = False):
        self.calls = 0
        self.threads: list[str] = []
        self.started = threading.Event()
        self.go = threading.Event()
        self.go.set()
        self.fail_first = fail_first

    def __call__(self, collection):
        self.calls += 1
        self.threads.append(threading.current_thread().name)
        self.started.set()
        assert self.go.wait(30), "the test never let the build go on"
        if self.fail_first and self.calls == 1:
            raise OSError("disk gone")
        return SearchIndex.build(collection)


def test_nothing_is_made_until_asked_and_the_answers_are_the_index_s(collection):
    build = CountedBuild()
    search = SearchOnDemand(collection, build)
    assert not search.ready and build.calls == 0
    surname = collection.persons[0].surname
    hits = search.search(surname, limit=5)
    assert search.ready and build.calls == 1
    assert [h.person_id for h in hits] == [h.person_id for h in SearchIndex.build(collection).search(surname, limit=5)]
    search.search(collection.persons[1].surname)
    search.prepare()  # made already: nothing more
    assert build.calls == 1


def test_prepare_makes_it_in_the_background_and_a_search_meanwhile_waits_for_it(collection):
    build = CountedBuild()
    build.go.clear()
    search = SearchOnDemand(collection, build)
    search.prepare()
    assert build.started.wait(30), "prepare started no build"
    search.prepare()  # asked again while it is made: returns at once, no second build
    answers: list = []
    asking = threading.Thread(target=lambda: answers.append(search.search(collection.persons[0].surname)))
    asking.start()
    assert not answers, "a search answered before the index was made"
    build.go.set()
    asking.join(30)
    assert answers and answers[0], "the waiting search got no hits"
    assert build.calls == 1 and build.threads == ["search-index"]


def test_a_background_build_that_fails_is_made_again_by_the_next_search(collection):
    build = CountedBuild(fail_first=True)
    search = SearchOnDemand(collection, build)
    search.prepare()
    assert build.started.wait(30)
    for _ in range(3000):  # the failure is logged and forgotten (at most 30 s)
        if not search._started:
            break
        threading.Event().wait(0.01)
    assert not search._started, "the failed build was never forgotten"
    assert not search.ready
    assert search.search(collection.persons[0].surname)
    assert build.calls == 2
