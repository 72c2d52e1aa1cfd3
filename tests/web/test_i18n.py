"""Users see Chinese by default; English is one click away."""


def test_pages_are_chinese_by_default(ctx, client_for):
    html = client_for("school_registrar").get("/students/list/").get_data(as_text=True)
    assert "学生名册" in html and "学籍号" in html


def test_english_is_available(ctx, client_for):
    client = client_for("school_registrar")
    client.get("/lang/en")
    html = client.get("/students/list/").get_data(as_text=True)
    assert "Students" in html and "Registry no." in html and "学生名册" not in html
    home = client.get("/").get_data(as_text=True)
    assert "School registrar" in home and "Student registry" in home


def test_error_messages_follow_the_language(ctx, api, token_for):
    r = api.get("/api/v1/student/99999999?_l_=en", headers=token_for("school_registrar"))
    assert r.status_code == 404
    headers = token_for("school_registrar")
    r = api.post("/api/v1/student/?_l_=en", json={"school_class": 1, "name": "x"}, headers=headers)
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "is required" in text and "必填" not in text
