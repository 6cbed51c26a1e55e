package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portier/db"
	"portier/testkit"
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

func TestAvatarUploadStripsMetadataAndScales(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna Muster", "", nil)
	e.login(u.Email, testPassword)
	_, body := e.get("/profile", profEN)
	if got := profErr(t, body, "avatar-initials"); got != "AM" {
		t.Fatalf("initials %q", got)
	}

	const marker = "GPS-52.5200N-13.4050E-SECRET-MARKER"
	upload := profJPEG(t, profExif(1, marker))
	if !bytes.Contains(upload, []byte(marker)) || !bytes.Contains(upload, []byte("Exif")) {
		t.Fatal("test upload lacks its EXIF block")
	}
	resp, body := e.profUpload("/profile/avatar", "avatar", "holiday.jpg", "image/jpeg", upload)
	if resp.StatusCode != 303 {
		t.Fatalf("upload: %d %.500s", resp.StatusCode, body)
	}
	stored, err := e.db.Avatar(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte(marker)) || bytes.Contains(stored, []byte("Exif")) {
		t.Fatal("metadata survived")
	}
	img, format, err := image.Decode(bytes.NewReader(stored))
	if err != nil || format != "png" {
		t.Fatalf("stored %q: %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != 128 || b.Dy() != 128 {
		t.Fatalf("stored %v", b)
	}
	// The centred square of the 300×200 picture is half red, half blue.
	if r, _, b, _ := img.At(20, 64).RGBA(); r>>8 < 180 || b>>8 > 70 {
		t.Fatalf("left is not red: %v", img.At(20, 64))
	}
	if r, _, b, _ := img.At(108, 64).RGBA(); b>>8 < 180 || r>>8 > 70 {
		t.Fatalf("right is not blue: %v", img.At(108, 64))
	}

	// The profile shows it, and it is served as PNG, privately.
	_, body = e.get("/profile", profEN)
	src, _ := doc(t, body).Find(`[data-testid=avatar-image]`).Attr("src")
	if src != "/avatar/"+strconv.FormatInt(u.ID, 10) {
		t.Fatalf("avatar src %q", src)
	}
	resp, served := e.get(src, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.Contains(resp.Header.Get("Cache-Control"), "private") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || served != string(stored) {
		t.Fatalf("serve: %d %v", resp.StatusCode, resp.Header)
	}

	// Removing it brings the initials back.
	resp, _ = e.post("/profile/avatar/remove", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if _, err := e.db.Avatar(context.Background(), u.ID); err != db.ErrNotFound {
		t.Fatalf("still stored: %v", err)
	}
	if resp, _ := e.get(src, nil); resp.StatusCode != 404 {
		t.Fatalf("removed avatar: %d", resp.StatusCode)
	}
}

func TestAvatarRefusals(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna Muster", "", nil)
	e.login(u.Email, testPassword)

	big := make([]byte, 2_500_000)
	rand.Read(big)
	copy(big, "\x89PNG\r\n\x1a\n")
	tooWide := new(bytes.Buffer)
	png.Encode(tooWide, image.NewGray(image.Rect(0, 0, 20000, 1)))
	gifLike := []byte("GIF89a\x10\x00\x10\x00 truncated") // a 16×16 header, then nothing usable
	for _, c := range []struct {
		name, filename, ct string
		data               []byte
		status             int
		want               string
	}{
		{"2.5 MB", "big.png", "image/png", big, 422, "2 MB"},
		{"text renamed .png", "notes.png", "image/png", []byte("Dear diary, this is not a picture.\n"), 422, "PNG, JPEG or GIF"},
		{"broken GIF", "x.gif", "image/gif", gifLike, 422, "PNG, JPEG or GIF"},
		{"too many pixels", "wide.png", "image/png", tooWide.Bytes(), 422, "too many pixels"},
		{"empty", "empty.png", "image/png", nil, 422, "choose a picture"},
	} {
		resp, body := e.profUpload("/profile/avatar", "avatar", c.filename, c.ct, c.data)
		if resp.StatusCode != c.status || !strings.Contains(profErr(t, body, "avatar-error"), c.want) {
			t.Fatalf("%s: %d, message %q", c.name, resp.StatusCode, profErr(t, body, "avatar-error"))
		}
		if got := e.profUser(u.ID); got.HasAvatar {
			t.Fatalf("%s: stored", c.name)
		}
	}
	// Over the body limit of uploads: refused before reading.
	huge := make([]byte, 3_200_000)
	resp, _ := e.profUpload("/profile/avatar", "avatar", "huge.png", "image/png", huge)
	if resp.StatusCode != 413 || e.profUser(u.ID).HasAvatar {
		t.Fatalf("3.2 MB: %d", resp.StatusCode)
	}
	// A form without the file.
	resp, body := e.post("/profile/avatar", url.Values{"x": {"y"}}, profEN)
	if resp.StatusCode != 422 || profErr(t, body, "avatar-error") == "" {
		t.Fatalf("no file: %d", resp.StatusCode)
	}
}

// The picture of the trust review: a 300 KB PNG (16-bit RGBA, 16384×2441) whose pixel count stays under
// the limit but that decodes to 305 MB. The upload is refused from its header, and the server's memory
// hardly moves (before the fix it was accepted and the heap grew by ~300 MB).
func TestAvatarDecompressionBombIsRefusedWithBoundedMemory(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna Muster", "", nil)
	e.login(u.Email, testPassword)
	bomb := testkit.BombPNG(16384, 2441)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, total := ms.HeapInuse, ms.TotalAlloc
	stop, peakc := make(chan struct{}), make(chan uint64)
	go func() {
		var top uint64
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-stop:
				peakc <- top
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	start := time.Now()
	resp, body := e.profUpload("/profile/avatar", "avatar", "bomb.png", "image/png", bomb)
	took := time.Since(start)
	close(stop)
	peak := <-peakc
	runtime.ReadMemStats(&ms)
	grew, alloc := float64(peak-min(peak, base))/(1<<20), float64(ms.TotalAlloc-total)/(1<<20)
	t.Logf("bomb upload (%d KB, %d MB decoded): %d in %v, heap peak +%.1f MB, %.1f MB allocated",
		len(bomb)>>10, 16384*2441*8>>20, resp.StatusCode, took.Round(time.Millisecond), grew, alloc)
	if resp.StatusCode != 422 || !strings.Contains(profErr(t, body, "avatar-error"), "too many pixels") || e.profUser(u.ID).HasAvatar {
		t.Fatalf("bomb: %d %q", resp.StatusCode, profErr(t, body, "avatar-error"))
	}
	if grew > 32 || alloc > 64 {
		t.Fatalf("the refused bomb took memory: heap +%.1f MB, %.1f MB allocated", grew, alloc)
	}
}

// When every decode slot is taken, an upload is answered at once (after a short wait for a slot) with 503,
// Retry-After and a message in the person's language, rather than queueing without end.
func TestAvatarUploadWhileBusyAnswers503(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna Muster", "", nil)
	e.login(u.Email, testPassword)
	pic := new(bytes.Buffer)
	png.Encode(pic, image.NewGray(image.Rect(0, 0, 40, 40)))
	ctx := context.Background()
	var releases []func()
	for {
		r, err := e.srv.avatars.Acquire(ctx)
		if err != nil {
			break
		}
		releases = append(releases, r)
	}
	resp, body := e.profUpload("/profile/avatar", "avatar", "me.png", "image/png", pic.Bytes())
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(profErr(t, body, "avatar-error"), "busy with other pictures") {
		t.Fatalf("busy: %d %q %q", resp.StatusCode, resp.Header.Get("Retry-After"), profErr(t, body, "avatar-error"))
	}
	e.db.W.Exec(`UPDATE users SET lang = 'de' WHERE id = ?`, u.ID)
	resp, body = e.profUpload("/profile/avatar", "avatar", "me.png", "image/png", pic.Bytes())
	if resp.StatusCode != 503 || !strings.Contains(profErr(t, body, "avatar-error"), "verarbeitet gerade andere Bilder") {
		t.Fatalf("busy, German: %d %q", resp.StatusCode, profErr(t, body, "avatar-error"))
	}
	for _, r := range releases {
		r()
	}
	if resp, _ := e.profUpload("/profile/avatar", "avatar", "me.png", "image/png", pic.Bytes()); resp.StatusCode != 303 || !e.profUser(u.ID).HasAvatar {
		t.Fatalf("after the slots are free: %d", resp.StatusCode)
	}
}

func TestAvatarAccess(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Muster GmbH", "muster")
	b := e.createOrg("Andere AG", "andere")
	anna := e.createUser("anna@muster.example", "Anna", "", map[int64]string{a.ID: "viewer"})
	e.createUser("bert@muster.example", "Bert", "", map[int64]string{a.ID: "manager", b.ID: "viewer"})
	e.createUser("carl@andere.example", "Carl", "", map[int64]string{b.ID: "manager"})
	e.createUser("tech@muster-it.example", "Tech", "technician", nil)
	pic := new(bytes.Buffer)
	png.Encode(pic, image.NewGray(image.Rect(0, 0, 40, 40)))
	e.login(anna.Email, testPassword)
	if resp, _ := e.profUpload("/profile/avatar", "avatar", "me.png", "image/png", pic.Bytes()); resp.StatusCode != 303 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	path := "/avatar/" + strconv.FormatInt(anna.ID, 10)
	for _, c := range []struct {
		email  string
		status int
	}{
		{"anna@muster.example", 200},    // herself
		{"bert@muster.example", 200},    // shares Muster GmbH
		{"tech@muster-it.example", 200}, // MSP staff
		{"carl@andere.example", 404},    // a customer of another organisation
	} {
		e.newClient()
		e.login(c.email, testPassword)
		resp, _ := e.get(path, nil)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.email, resp.StatusCode, c.status)
		}
	}
	// Carl gets the same 404 for a person without a picture and for nonsense.
	for _, p := range []string{"/avatar/999999", "/avatar/abc", "/avatar/-1"} {
		if resp, _ := e.get(p, nil); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	e.newClient()
	if resp, _ := e.get(path, nil); resp.StatusCode != 303 {
		t.Errorf("signed out: %d", resp.StatusCode)
	}
}

func TestPasswordChange(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUser("anna@muster.example", "Anna Muster", "", map[int64]string{o.ID: "viewer"})
	// Another browser of Anna.
	e.login(u.Email, testPassword)
	other := e.client.Jar
	e.newClient()
	e.login(u.Email, testPassword)
	this := e.client.Jar

	const newPw = "Neues-Kennwort#2027"
	before := e.profUser(u.ID)

	// Validation failures: 422, a message, nothing changed.
	for _, c := range []struct {
		name    string
		form    url.Values
		testid  string
		want    string
		failure bool
	}{
		{"wrong current", url.Values{"current_password": {"falsch"}, "new_password": {newPw}, "new_password2": {newPw}}, "pw-current-error", "not correct", true},
		{"no current", url.Values{"new_password": {newPw}, "new_password2": {newPw}}, "pw-current-error", "current password", false},
		{"mismatch", url.Values{"current_password": {testPassword}, "new_password": {newPw}, "new_password2": {newPw + "x"}}, "pw-repeat-error", "match", false},
		{"short", url.Values{"current_password": {testPassword}, "new_password": {"kurz"}, "new_password2": {"kurz"}}, "password-unmet", "At least 8 characters", false},
		{"common", url.Values{"current_password": {testPassword}, "new_password": {"P@ssw0rd"}, "new_password2": {"P@ssw0rd"}}, "password-unmet", "common", false},
		{"personal", url.Values{"current_password": {testPassword}, "new_password": {"Muster#2027x"}, "new_password2": {"Muster#2027x"}}, "password-unmet", "name", false},
	} {
		fails := e.profUser(u.ID).FailedLogins
		resp, body := e.post("/profile/password", c.form, profEN)
		if resp.StatusCode != 422 || !strings.Contains(profErr(t, body, c.testid), c.want) {
			t.Fatalf("%s: %d, message %q", c.name, resp.StatusCode, profErr(t, body, c.testid))
		}
		if strings.Contains(body, newPw) || strings.Contains(body, testPassword) {
			t.Fatalf("%s: a password was echoed", c.name)
		}
		got := e.profUser(u.ID)
		if got.PasswordHash != before.PasswordHash {
			t.Fatalf("%s: password changed", c.name)
		}
		if c.failure != (got.FailedLogins == fails+1) {
			t.Fatalf("%s: failed logins %d → %d", c.name, fails, got.FailedLogins)
		}
	}
	// Each unmet rule is named.
	_, body := e.post("/profile/password", url.Values{"current_password": {testPassword}, "new_password": {"qzxw"}, "new_password2": {"qzxw"}}, profEN)
	var rules []string
	doc(t, body).Find(`[data-testid=password-unmet] li`).Each(func(_ int, s *goquery.Selection) { r, _ := s.Attr("data-rule"); rules = append(rules, r) })
	if strings.Join(rules, ",") != "password.rule.length,password.rule.upper,password.rule.digit,password.rule.special" {
		t.Fatalf("unmet rules %v", rules)
	}
	if n := len(e.mails()); n != 0 {
		t.Fatalf("%d mails after failures", n)
	}

	resp, _ := e.post("/profile/password", url.Values{"current_password": {testPassword}, "new_password": {newPw}, "new_password2": {newPw}}, profEN)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/profile" {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	// This browser stays signed in, listed under its new token.
	resp, body = e.get("/profile", profEN)
	if resp.StatusCode != 200 || !strings.Contains(profErr(t, body, "alert-success"), "password was changed") {
		t.Fatalf("this session after change: %d", resp.StatusCode)
	}
	var listed int
	e.db.R.QueryRow(`SELECT count(*) FROM user_sessions WHERE user_id = ?`, u.ID).Scan(&listed)
	if listed != 1 || doc(t, body).Find(`[data-testid=session-row]`).Length() != 1 {
		t.Fatalf("%d sessions listed after the change", listed)
	}
	// The other browser is signed out.
	e.client.Jar = other
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("other session survived: %d", resp.StatusCode)
	}
	// Old password out, new one in.
	e.newClient()
	if resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil); resp.StatusCode != 401 {
		t.Fatalf("old password: %d", resp.StatusCode)
	}
	e.login(u.Email, newPw)
	e.client.Jar = this

	// The notification: to Anna, no password, what to do if it was not her.
	ms := e.mails()
	if len(ms) != 1 {
		t.Fatalf("%d mails", len(ms))
	}
	m := e.lastMailTo(u.Email)
	if !strings.Contains(m.Subject, "password") || !strings.Contains(m.Text, "If you did not do this") {
		t.Fatalf("mail %q:\n%s", m.Subject, m.Text)
	}
	for _, secret := range []string{newPw, testPassword} {
		if strings.Contains(m.Text, secret) || strings.Contains(m.HTML, secret) || strings.Contains(m.Subject, secret) {
			t.Fatal("password in the mail")
		}
	}
	var audited int
	e.db.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'password.change' AND actor_id = ?`, u.ID).Scan(&audited)
	if audited != 1 {
		t.Fatalf("audit: %d", audited)
	}
}

func TestEmailChangeFlow(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	e.login(u.Email, testPassword)
	const next = "anna.neu@muster.example"

	for _, c := range []struct {
		name, email, pw, testid, want string
	}{
		{"invalid", "anna-at-muster", testPassword, "email-new-error", "valid e-mail"},
		{"display name", "Anna <anna2@muster.example>", testPassword, "email-new-error", "valid e-mail"},
		{"too long", strings.Repeat("a", 250) + "@x.example", testPassword, "email-new-error", "valid e-mail"},
		{"same", "ANNA@muster.example", testPassword, "email-new-error", "already your"},
		{"wrong password", next, "falsch", "email-password-error", "not correct"},
		{"no password", next, "", "email-password-error", "current password"},
	} {
		resp, body := e.post("/profile/email", url.Values{"email": {c.email}, "current_password": {c.pw}}, profEN)
		if resp.StatusCode != 422 || !strings.Contains(profErr(t, body, c.testid), c.want) {
			t.Fatalf("%s: %d, message %q", c.name, resp.StatusCode, profErr(t, body, c.testid))
		}
		if got := e.profUser(u.ID); got.PendingEmail != "" || got.Email != u.Email {
			t.Fatalf("%s: stored %+v", c.name, got)
		}
	}
	if n := len(e.mails()); n != 0 {
		t.Fatalf("%d mails after failures", n)
	}

	resp, _ := e.post("/profile/email", url.Values{"email": {" Anna.Neu@muster.example "}, "current_password": {testPassword}}, profEN)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/profile" {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if got := e.profUser(u.ID); got.PendingEmail != next || got.Email != u.Email {
		t.Fatalf("pending %+v", got)
	}
	_, body := e.get("/profile", profEN)
	if !strings.Contains(profErr(t, body, "email-pending"), next) || doc(t, body).Find(`[data-testid=email-resend]`).Length() != 1 ||
		doc(t, body).Find(`[data-testid=email-cancel]`).Length() != 1 {
		t.Fatalf("pending address not shown")
	}
	// The old address is told, without a link.
	notice := e.lastMailTo(u.Email)
	if !strings.Contains(notice.Text, next) || linkRE.MatchString(notice.Text) {
		t.Fatalf("notice:\n%s", notice.Text)
	}
	link := linkIn(t, e.lastMailTo(next))

	// Until confirmed, the old address signs in and the new one does not.
	mine := e.client.Jar
	e.newClient()
	e.login(u.Email, testPassword)
	e.newClient()
	if resp, _ := e.post("/login", url.Values{"email": {next}, "password": {testPassword}}, nil); resp.StatusCode == 303 {
		t.Fatal("unconfirmed address signed in")
	}
	e.client.Jar = mine

	resp, body = e.get(link, profEN)
	if resp.StatusCode != 200 || doc(t, body).Find(`[data-testid=confirm-done]`).Length() != 1 {
		t.Fatalf("confirm: %d %.300s", resp.StatusCode, body)
	}
	if got := e.profUser(u.ID); got.Email != next || got.PendingEmail != "" {
		t.Fatalf("after confirm %+v", got)
	}
	e.newClient()
	if resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, nil); resp.StatusCode != 401 {
		t.Fatalf("old address after confirm: %d", resp.StatusCode)
	}
	e.login(next, testPassword)
}

func TestEmailChangeCancel(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	e.login(u.Email, testPassword)
	e.post("/profile/email", url.Values{"email": {"neu@muster.example"}, "current_password": {testPassword}}, nil)
	link := linkIn(t, e.lastMailTo("neu@muster.example"))
	resp, _ := e.post("/profile/email/cancel", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if got := e.profUser(u.ID); got.PendingEmail != "" {
		t.Fatalf("still pending %q", got.PendingEmail)
	}
	// The link in the mailbox no longer switches the address.
	resp, _ = e.get(link, nil)
	if resp.StatusCode != 410 || e.profUser(u.ID).Email != u.Email {
		t.Fatalf("cancelled link: %d", resp.StatusCode)
	}

	// Asking for another address kills the link sent for the previous one.
	e.clock.Advance(2 * time.Minute)
	e.post("/profile/email", url.Values{"email": {"erst@muster.example"}, "current_password": {testPassword}}, nil)
	first := linkIn(t, e.lastMailTo("erst@muster.example"))
	e.clock.Advance(2 * time.Minute)
	e.post("/profile/email", url.Values{"email": {"zweit@muster.example"}, "current_password": {testPassword}}, nil)
	if resp, _ := e.get(first, nil); resp.StatusCode != 410 || e.profUser(u.ID).Email != u.Email {
		t.Fatalf("link for the earlier address: %d", resp.StatusCode)
	}
	if resp, _ := e.get(linkIn(t, e.lastMailTo("zweit@muster.example")), nil); resp.StatusCode != 200 || e.profUser(u.ID).Email != "zweit@muster.example" {
		t.Fatalf("link for the later address: %d", resp.StatusCode)
	}
}

func TestEmailChangeToTakenAddressLooksLikeSuccess(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	e.createUser("bert@muster.example", "Bert", "", nil)
	e.login(u.Email, testPassword)

	e.post("/profile/email", url.Values{"email": {"frei@muster.example"}, "current_password": {testPassword}}, profEN)
	_, free := e.get("/profile", profEN)
	e.post("/profile/email/cancel", nil, nil)
	e.get("/profile", profEN) // consume the flash
	before := len(e.mails())
	e.clock.Advance(2 * time.Minute) // past the mail cooldown, so a mail would go out if one were due

	resp, _ := e.post("/profile/email", url.Values{"email": {"Bert@muster.example"}, "current_password": {testPassword}}, profEN)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/profile" {
		t.Fatalf("taken: %d", resp.StatusCode)
	}
	_, taken := e.get("/profile", profEN)
	if a, b := profErr(t, free, "alert-success"), profErr(t, taken, "alert-success"); a == "" || a != b {
		t.Fatalf("answers differ: %q vs %q", a, b)
	}
	// The owner of the taken address gets nothing, and no link could switch to it; the person's own
	// mailbox gets the notice a free address gets too (TestEmailChangeToTakenAddressLeavesTheSameTraces).
	for _, m := range e.mails()[before:] {
		if !strings.EqualFold(m.To, u.Email) {
			t.Errorf("mail queued to %s: %s", m.To, m.Subject)
		}
	}
	if n := countRows(t, e, `SELECT count(*) FROM tokens WHERE user_id = ? AND purpose = ? AND email = 'bert@muster.example'`, u.ID, db.PurposeConfirm); n != 0 {
		t.Fatalf("%d confirmation links for the taken address", n)
	}
}

func TestSessionsListAndEnd(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("anna@muster.example", "Anna", "", nil)
	loginUA := func(ua string) {
		resp, _ := e.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}}, map[string]string{"User-Agent": ua})
		if resp.StatusCode != 303 {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		if resp.Header.Get("Location") == "/mfa" {
			e.passSecondFactor()
		}
	}
	const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
	const safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
	loginUA(firefox)
	phone := e.client.Jar
	e.newClient()
	loginUA(safari)
	third := e.client.Jar
	e.newClient()
	loginUA("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36")

	resp, body := e.get("/profile", profEN)
	if resp.StatusCode != 200 {
		t.Fatalf("profile: %d", resp.StatusCode)
	}
	d := doc(t, body)
	rows := d.Find(`[data-testid=session-row]`)
	if rows.Length() != 3 || d.Find(`[data-testid=session-row][data-current]`).Length() != 1 ||
		!strings.Contains(d.Find(`[data-testid=session-row][data-current]`).Text(), "Chrome on Linux") ||
		!strings.Contains(rows.Text(), "Firefox on Windows") || !strings.Contains(rows.Text(), "Safari on iOS") ||
		!strings.Contains(rows.Text(), "127.0.0.1") {
		t.Fatalf("session rows: %q", rows.Text())
	}
	// No token, and no stored hash of one, anywhere on the page.
	listed, err := e.db.UserSessions(context.Background(), u.ID)
	if err != nil || len(listed) != 3 {
		t.Fatalf("%d sessions: %v", len(listed), err)
	}
	for _, s := range listed {
		if strings.Contains(body, hex.EncodeToString(s.Hash)) {
			t.Fatal("a session's stored hash is in the page")
		}
	}
	if tok := e.sessionToken(); tok == "" || strings.Contains(body, tok) {
		t.Fatal("the session token is in the page")
	}

	// End the phone's session (the Safari one) by its identifier.
	var id string
	rows.Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "Safari on iOS") {
			id, _ = s.Find(`input[name=id]`).Attr("value")
		}
	})
	if len(id) != 16 {
		t.Fatalf("session id %q", id)
	}
	if resp, _ := e.post("/profile/sessions/end", url.Values{"id": {"0123456789abcdef"}}, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown id: %d", resp.StatusCode)
	}
	if resp, _ := e.post("/profile/sessions/end", url.Values{"id": {id}}, nil); resp.StatusCode != 303 {
		t.Fatalf("end: %d", resp.StatusCode)
	}
	mine := e.profSwitch(third)
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 303 {
		t.Fatalf("ended session still works: %d", resp.StatusCode)
	}
	e.client.Jar = phone
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 200 {
		t.Fatalf("Firefox session ended too: %d", resp.StatusCode)
	}
	// Someone else's session identifier does nothing here.
	e.client.Jar = mine

	// Sign out everywhere else.
	if resp, _ := e.post("/profile/sessions/end-others", nil, nil); resp.StatusCode != 303 {
		t.Fatalf("end others: %d", resp.StatusCode)
	}
	_, body = e.get("/profile", profEN)
	if doc(t, body).Find(`[data-testid=session-row]`).Length() != 1 || doc(t, body).Find(`[data-testid=sessions-only-this]`).Length() != 1 {
		t.Fatalf("after end-others")
	}
	e.client.Jar = phone
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 303 {
		t.Fatalf("other session survived end-others: %d", resp.StatusCode)
	}
}

func TestSessionEndCannotTouchAnotherPersonsSession(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("anna@muster.example", "Anna", "", nil)
	bert := e.createUser("bert@muster.example", "Bert", "", nil)
	e.login("bert@muster.example", testPassword)
	berts := e.client.Jar
	e.newClient()
	e.login("anna@muster.example", testPassword)
	ss, _ := e.db.UserSessions(context.Background(), bert.ID)
	if len(ss) != 1 {
		t.Fatalf("%d", len(ss))
	}
	if resp, _ := e.post("/profile/sessions/end", url.Values{"id": {sessionID(ss[0].Hash)}}, nil); resp.StatusCode != 404 {
		t.Fatalf("ended another person's session: %d", resp.StatusCode)
	}
	e.client.Jar = berts
	if resp, _ := e.get("/profile", nil); resp.StatusCode != 200 {
		t.Fatalf("Bert signed out: %d", resp.StatusCode)
	}
}

func TestParseUserAgent(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0": "Edge/Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15":         "Safari/macOS",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Mobile Safari/537.36":         "Chrome/Android",
		"Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/138.0 Mobile/15E148 Safari/604.1": "Chrome/iOS",
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0":                                                "Firefox/Linux",
		"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36":                "Chrome/ChromeOS",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 OPR/120.0.0.0": "Opera/Windows",
		"curl/8.5.0": "/",
	} {
		b, o := parseUserAgent(ua)
		if b+"/"+o != want {
			t.Errorf("%.40s…: %s/%s, want %s", ua, b, o, want)
		}
	}
}
