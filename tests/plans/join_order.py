"""The join-order statements of ``tests/test_join_order.py``: three tables of vouchers and offers
joined through a link table, the statistics states a test database may hold, and the tables the
guard must keep for each statement in every state. ``capture_judge.py --join-order`` stores
their forced plans and probes for the pure tests of ``tests/test_mutation_kills.py``."""

from __future__ import annotations

DDL = """
CREATE TABLE offer (
    id bigserial PRIMARY KEY, name varchar(128) NOT NULL, status varchar(64) NOT NULL,
    priority integer NOT NULL);
CREATE TABLE voucher (
    id bigserial PRIMARY KEY, name varchar(128) NOT NULL, code varchar(128) NOT NULL UNIQUE,
    usage varchar(128) NOT NULL);
CREATE TABLE voucher_offers (
    id bigserial PRIMARY KEY,
    voucher_id bigint NOT NULL REFERENCES voucher (id),
    offer_id bigint NOT NULL REFERENCES offer (id));
CREATE INDEX voucher_offers_voucher_id ON voucher_offers (voucher_id);
CREATE INDEX voucher_offers_offer_id ON voucher_offers (offer_id);
CREATE UNIQUE INDEX voucher_offers_pair ON voucher_offers (voucher_id, offer_id);
"""

ROWS = """
INSERT INTO offer (name, status, priority) SELECT 'offer ' || g, 'Open', g
    FROM generate_series(1, 5) g;
INSERT INTO voucher (name, code, usage) SELECT 'voucher ' || g, 'CODE' || g, 'Single use'
    FROM generate_series(1, 3) g;
INSERT INTO voucher_offers (voucher_id, offer_id) SELECT g, 1 + g % 5
    FROM generate_series(1, 3) g;
"""

# The statistics a test database may hold when the statement comes: SQL run after the DDL.
STATES = {
    "never analysed": "",
    "analysed empty": "ANALYZE offer; ANALYZE voucher; ANALYZE voucher_offers;",
    "rows analysed": ROWS + "ANALYZE offer; ANALYZE voucher; ANALYZE voucher_offers;",
    "rows since": ROWS,
}

_VOUCHERS = (
    "SELECT v.id, v.code FROM voucher v "
    "INNER JOIN voucher_offers vo ON (vo.voucher_id = v.id) "
    "INNER JOIN offer o ON (o.id = vo.offer_id) WHERE "
)
_OFFERS = (
    "SELECT o.id, o.name FROM offer o "
    "INNER JOIN voucher_offers vo ON (vo.offer_id = o.id) "
    "INNER JOIN voucher v ON (v.id = vo.voucher_id) WHERE "
)

# statement -> {table: rule} the guard must keep in every state.
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "vouchers of offers found by name": (
        _VOUCHERS + "UPPER(o.name::text) LIKE UPPER('%spring%')",
        {"offer": "unservable"},
    ),
    "vouchers of open offers": (
        _VOUCHERS + "o.status = 'Open' ORDER BY v.code",
        {"offer": "filter"},
    ),
    "offers of single-use vouchers": (
        _OFFERS + "v.usage = 'Single use'",
        {"voucher": "filter"},
    ),
    # Both sides filtered by a column no index serves: either may be read whole, depending on
    # sizes the guard does not know, so both are named (an index on either fixes it).
    "filters on both sides": (
        _VOUCHERS + "o.status = 'Open' AND v.usage = 'Multi-use'",
        {"offer": "filter", "voucher": "filter"},
    ),
    # Against them: a voucher found by its unique code; production starts there and reaches
    # the rest through indexes, whatever the offers' own filter.
    "offers of one voucher by code": (
        _OFFERS + "v.code = 'CODE1' AND o.status = 'Open'",
        {},
    ),
    # Offers found by their ids through the index that leads with offer_id; on tables analysed
    # empty the few rows' plan reads the whole (voucher_id, offer_id) index for them at the
    # same cost, which is no read production keeps.
    "vouchers of offers 1 and 2": (
        _VOUCHERS + "vo.offer_id IN (1, 2) ORDER BY v.code",
        {},
    ),
    "open offers of vouchers 1 and 2": (
        _OFFERS + "v.id IN (1, 2) AND o.status = 'Open'",
        {},
    ),
    # The same code in a LEFT JOIN's condition restricts no offer: every open one is listed.
    "open offers with one voucher beside them": (
        "SELECT o.id, v.code FROM offer o "
        "LEFT JOIN voucher_offers vo ON (vo.offer_id = o.id) "
        "LEFT JOIN voucher v ON (v.id = vo.voucher_id AND v.code = 'CODE1') "
        "WHERE o.status = 'Open'",
        {"offer": "filter"},
    ),
}


# Without an index that leads with offer_id, the link table is read whole for its offers:
# only the (voucher_id, offer_id) index has the column, second. PostgreSQL turns
# ``o.id = vo.offer_id AND vo.offer_id = 2`` into ``o.id = 2`` beside ``vo.offer_id = 2``, and
# the offer found by its key spares no link row.
DDL_WITHOUT_OFFER_INDEX = DDL.replace(
    "CREATE INDEX voucher_offers_offer_id ON voucher_offers (offer_id);\n", ""
)
WITHOUT_OFFER_INDEX: dict[str, tuple[str, dict[str, str]]] = {
    "vouchers of offers 1 and 2, no index on offer_id": (
        _VOUCHERS + "vo.offer_id IN (1, 2) ORDER BY v.code",
        {"voucher_offers": "filter"},
    ),
    "vouchers of offer 2, no index on offer_id": (
        _VOUCHERS + "vo.offer_id = 2",
        {"voucher_offers": "filter"},
    ),
}


def slug(text: str) -> str:
    """A case's or a state's name as a file name."""
    return text.replace(", ", "_").replace(" ", "_").replace("-", "_")
