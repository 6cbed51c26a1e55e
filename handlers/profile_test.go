package handlers

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"portier/db"
)

// profSwitch replaces the env's cookie jar and returns the previous one: two browsers of one person.
func (e *testEnv) profSwitch(jar http.CookieJar) http.CookieJar {
	old := e.client.Jar
	e.client.Jar = jar
	return old
}

// profUser loads a person afresh from the database.
func (e *testEnv) profUser(id int64) *db.User {
	e.t.Helper()
	u, err := e.db.UserByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// profUpload posts one file as multipart/form-data.
func (e *testEnv) profUpload(path, field, filename, contentType string, data []byte) (*http.Response, string) {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+filename+`"`)
	h.Set("Content-Type", contentType)
	fw, err := w.CreatePart(h)
	if err != nil {
		e.t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	return e.do(http.MethodPost, path, &buf, map[string]string{"Content-Type": w.FormDataContentType()})
}

func profErr(t *testing.T, body, testid string) string {
	t.Helper()
	return strings.TrimSpace(doc(t, body).Find(`[data-testid="` + testid + `"]`).Text())
}

var profEN = map[string]string{"Accept-Language": "en"}

func TestProfilePageNeedsSignIn(t *testing.T) {
	e := newTestEnv(t)
	resp, _ := e.get("/profile", nil)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Fprofile") {
		t.Fatalf("signed out: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = e.post("/profile", url.Values{"name": {"X"}}, nil)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("signed-out post: %d", resp.StatusCode)
	}
}

func TestProfileSettings(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna Muster", "", map[int64]string{o.ID: "viewer"})
	e.login(u.Email, testPassword)

	resp, body := e.get("/profile", nil)
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`html[lang=en]`).Length() != 1 {
		t.Fatalf("profile: %d", resp.StatusCode)
	}
	if v, _ := d.Find(`#profile-tz option[selected]`).Attr("value"); v != "Europe/Berlin" {
		t.Fatalf("default zone %q", v)
	}
	if d.Find(`#profile-tz option`).Length() < 30 || d.Find(`label[for=profile-tz]`).Length() != 1 {
		t.Fatalf("zone list")
	}

	// Each invalid field: 422, its message, nothing stored.
	good := url.Values{"name": {"Anna M."}, "lang": {"de"}, "tz": {"Europe/Vienna"}, "theme": {"dark"}}
	for _, c := range []struct{ field, value, testid string }{
		{"name", strings.Repeat("x", 101), "profile-name-error"},
		{"name", "Anna\x07", "profile-name-error"},
		{"lang", "fr", "profile-lang-error"},
		{"tz", "Mars/Olympus_Mons", "profile-tz-error"},
		{"tz", "America/Boise", "profile-tz-error"}, // a real zone, but not on the list
		{"tz", "", "profile-tz-error"},
		{"theme", "pink", "profile-theme-error"},
	} {
		f := url.Values{}
		for k, v := range good {
			f[k] = v
		}
		f.Set(c.field, c.value)
		resp, body := e.post("/profile", f, nil)
		if resp.StatusCode != 422 || profErr(t, body, c.testid) == "" {
			t.Fatalf("%s=%q: %d, message %q", c.field, c.value, resp.StatusCode, profErr(t, body, c.testid))
		}
		got := e.profUser(u.ID)
		if got.Name != "Anna Muster" || got.Lang != "en" || got.TimeZone != "Europe/Berlin" || got.Theme != "" {
			t.Fatalf("%s=%q changed the profile: %+v", c.field, c.value, got)
		}
	}

	// Success: stored, and the next page is already German and dark.
	resp, _ = e.post("/profile", good, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/profile" {
		t.Fatalf("save: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	got := e.profUser(u.ID)
	if got.Name != "Anna M." || got.Lang != "de" || got.TimeZone != "Europe/Vienna" || got.Theme != "dark" {
		t.Fatalf("stored %+v", got)
	}
	resp, body = e.get("/profile", profEN)
	d = doc(t, body)
	if d.Find(`html[lang=de][data-theme=dark]`).Length() != 1 {
		t.Fatalf("language/theme not applied: %.300s", body)
	}
	if !strings.Contains(profErr(t, body, "alert-success"), "gespeichert") {
		t.Fatalf("no German success message: %q", profErr(t, body, "alert-success"))
	}
	if v, _ := d.Find(`#profile-tz option[selected]`).Attr("value"); v != "Europe/Vienna" {
		t.Fatalf("selected zone %q", v)
	}
	// The saved theme wins over a cookie saying otherwise.
	resp, body = e.get("/profile", map[string]string{"Cookie": "portier_theme=light"})
	if doc(t, body).Find(`html[data-theme=dark]`).Length() != 1 {
		t.Fatalf("cookie beat the saved theme")
	}
	// The footer's theme switch changes the saved choice too; "system" clears it.
	e.post("/theme", url.Values{"theme": {"light"}, "next": {"/profile"}}, nil)
	if got := e.profUser(u.ID); got.Theme != "light" {
		t.Fatalf("theme switch not saved: %q", got.Theme)
	}
	good.Set("theme", "system")
	e.post("/profile", good, nil)
	_, body = e.get("/profile", nil)
	if got := e.profUser(u.ID); got.Theme != "" || doc(t, body).Find(`html[data-theme]`).Length() != 0 {
		t.Fatalf("system theme: %q", got.Theme)
	}
}

// profJPEG is a 300×200 JPEG, red on the left half and blue on the right, with an APP1 segment holding
// app1 spliced in after the start-of-image marker.
func profJPEG(t *testing.T, app1 []byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			c := color.RGBA{220, 20, 20, 255}
			if x >= 150 {
				c = color.RGBA{20, 20, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(app1)+2))
	seg = append(seg, app1...)
	out := append([]byte{}, b[:2]...)
	out = append(out, seg...)
	out = append(out, b[2:]...)
	if _, _, err := image.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("spliced JPEG does not decode: %v", err)
	}
	return out
}

// profExif is an EXIF block (big-endian TIFF) with one entry, the orientation, followed by marker text.
func profExif(orientation uint16, marker string) []byte {
	b := []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00")
	binary.BigEndian.PutUint16(b[6+8+2+8:], orientation)
	return append(b, marker...)
}
