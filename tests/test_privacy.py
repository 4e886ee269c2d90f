

def test_the_load_report_never_prints_a_value_of_identifier_shape():
    from etl.report import Problem

    assert "A123456789012" not in str(Problem("f.csv", 3, "upnunknown", "not a valid code", "A123456789012"))
    assert "9434765919" not in str(Problem("f.csv", 3, "x", "bad", "NHS 943 476 5919"))
    assert "(value '2023-13-01')" in str(Problem("f.csv", 3, "receiveddate", "not a valid date", "2023-13-01"))
