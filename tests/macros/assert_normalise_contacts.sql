-- Contact normalisation against hand-written expectations: the formatting variants real exports
-- deliver for one phone or one mailbox must all land on the same key.
with

cases as (

    select *
    from (
        values
        ('+90 (532) 123 45 67', null, '+905321234567'),
        ('+90-5321234567', null, '+905321234567'),
        ('00905321234567', null, '+905321234567'),
        ('0532 123 45 67', '90', '+905321234567'),
        ('0532 123 45 67', null, null),
        ('  ', null, null),
        ('+1 (212) 555-0100', null, '+12125550100')
    ) as t (raw_phone, calling_code, expected_phone)

),

emails as (

    select *
    from (
        values
        ('  Ayse.Yilmaz@Example.com ', 'ayse.yilmaz@example.com'),
        ('AYSE.YILMAZ@EXAMPLE.COM', 'ayse.yilmaz@example.com'),
        ('ayse.yilmaz+shop@example.com', 'ayse.yilmaz@example.com'),
        ('', null)
    ) as t (raw_email, expected_key)

),

phone_failures as (

    select
        raw_phone as raw_value,
        expected_phone as expected,
        {{ normalise_phone('raw_phone', 'calling_code') }} as actual
    from cases

),

email_failures as (

    select
        raw_email as raw_value,
        expected_key as expected,
        {{ email_match_key(normalise_email('raw_email')) }} as actual
    from emails

),

final as (

    select * from phone_failures
    where actual is distinct from expected
    union all
    select * from email_failures
    where actual is distinct from expected

)

select * from final
