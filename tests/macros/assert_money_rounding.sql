{#-
    The money rounding macros (`round_to_cents`, `round_half_up`) against hand-computed values, and
    against the portable 128-bit expression (the `default__` macros) over 90,000 computed amounts on both
    sides of the 64-bit path's limit (`exact_decimal_fits`, 1e7). On DuckDB the macros take a faster
    64-bit decimal where the value fits; they must not change a single cent. Returns a row per mismatch.
-#}

with

hand_computed as (

    -- half a cent rounds up (away from zero), though the double is 1.00499999...
    select *
    from (
        values
        (1.005, 1.01, 2, 1.01),
        (2.675, 2.68, 2, 2.68),
        (-1.005, -1.01, 2, -1.01),
        (0.125, 0.13, 2, 0.13),
        (2.5, 2.50, 0, 3.0),
        (-2.5, -2.50, 0, -3.0),
        (123456.785, 123456.79, 1, 123456.8),
        (25000000.125, 25000000.13, 2, 25000000.13)
    ) as t (amount, expected_cents, digits, expected_rounded)

),

hand_checked as (

    select
        amount,
        expected_cents,
        {{ round_to_cents('cast(amount as double)') }} as cents,
        expected_rounded,
        case digits
            when 0 then {{ round_half_up('cast(amount as double)', 0) }}
            when 1 then {{ round_half_up('cast(amount as double)', 1) }}
            else {{ round_half_up('cast(amount as double)', 2) }}
        end as rounded
    from hand_computed

),

digits as (

    select * from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as t (digit)

),

-- 10,000 steps of 0.001, scaled and shifted nine ways: many amounts end in a half cent, and two sets
-- cross the 64-bit path's limit (9,999,995 to 10,000,005 and its negative), one lies past 1e8
amounts as (

    select
        shifts.offset_amount + cast(
            (thousands.digit * 1000 + hundreds.digit * 100 + tens.digit * 10 + units.digit) / 1000.0
            as double
        ) * shifts.factor as amount
    from digits as thousands
    cross join digits as hundreds
    cross join digits as tens
    cross join digits as units
    cross join (
        values
        (0.0, 1.0), (0.0, -1.0), (0.0, 3.7), (0.0, 0.13), (0.0, 4567.1),
        (9999995.0, 1.0), (-9999995.0, -1.0), (25000000.0, 1.1), (123456789.0, 1.0)
    ) as shifts (offset_amount, factor)

),

compared as (

    select
        amount,
        {{ round_to_cents('amount') }} as cents,
        {{ insight_engine.default__round_to_cents('amount') }} as reference_cents,
        {{ round_half_up('amount', 2) }} as rounded,
        {{ insight_engine.default__round_half_up('amount', 2) }} as reference_rounded
    from amounts

)

select
    'hand_computed' as check_name,
    amount,
    cents,
    expected_cents as expected_value
from hand_checked
where cents <> expected_cents or rounded <> expected_rounded

union all

select
    'same_as_128_bit' as check_name,
    amount,
    cents,
    reference_cents as expected_value
from compared
where cents <> reference_cents or rounded <> reference_rounded
