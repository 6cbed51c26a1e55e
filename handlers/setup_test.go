package handlers

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFirstAdminSetupLink(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	link, err := e.srv.accounts.FirstAdminLink(ctx)
	if err != nil || !strings.HasPrefix(link, e.ts.URL+"/setup/") {
		t.Fatalf("link %q %v", link, err)
	}
	path := strings.TrimPrefix(link, e.ts.URL)
	// A second start replaces the link.
	link2, _ := e.srv.accounts.FirstAdminLink(ctx)
	if resp, _ := e.get(path, nil); resp.StatusCode != 410 {
		t.Fatalf("replaced link: %d", resp.StatusCode)
	}
	path = strings.TrimPrefix(link2, e.ts.URL)
	resp, body := e.get(path, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 200 || doc(t, body).Find(`#setup-email[autocomplete=username]`).Length() != 1 {
		t.Fatalf("setup page: %d", resp.StatusCode)
	}
	resp, _ = e.post(path, url.Values{"email": {"not an address"}, "name": {"Ada"}}, nil)
	if resp.StatusCode != 422 {
		t.Fatalf("bad address: %d", resp.StatusCode)
	}
	if n, _ := e.db.CountAdmins(ctx); n != 0 {
		t.Fatal("bad input created something")
	}
	resp, _ = e.post(path, url.Values{"email": {"ada@msp.example"}, "name": {"Ada Admin"}, "lang": {"de"}}, nil)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/invite/") {
		t.Fatalf("create: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The link is used up; the invitation page takes over. No invitation mail: the administrator is
	// already on the way, and a mail inviting them to "your company's IT documentation" would only confuse.
	if resp, _ := e.get(path, nil); resp.StatusCode != 410 {
		t.Fatalf("used link: %d", resp.StatusCode)
	}
	if ms := e.mails(); len(ms) != 0 {
		t.Fatalf("the first administrator got %d mail(s): %q", len(ms), ms[0].Subject)
	}
	invite := resp.Header.Get("Location")
	_, body = e.get(invite, nil)
	if !strings.Contains(body, "ada@msp.example") {
		t.Fatal("invitation page does not show the address")
	}

	// After the first sign-in (password, then a second factor), the MSP is named before the first
	// organisation: the staff home and creating an organisation lead to the setup step.
	if resp, _ := e.post(invite, pwValues("Ada Admin", goodPassword, goodPassword, true), nil); resp.StatusCode != 303 {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	ada := userByEmail(t, e, "ada@msp.example")
	e.enrolTestTOTP(ada.ID)
	e.passSecondFactor()
	e.db.MarkSetupShown(ctx, ada.ID)
	for _, rq := range []struct{ method, path string }{{"GET", "/staff"}, {"POST", "/staff/orgs"}} {
		resp, _ := e.do(rq.method, rq.path, strings.NewReader("name=Alpha+GmbH&slug=alpha"), nil)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/staff/welcome" {
			t.Fatalf("%s %s before the setup step: %d %q", rq.method, rq.path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, body = e.get("/staff/welcome", map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 200 || doc(t, body).Find(`[data-testid="msp-setup-form"]`).Length() != 1 {
		t.Fatalf("setup step: %d", resp.StatusCode)
	}
	if v, _ := doc(t, body).Find(`#msp-name`).Attr("value"); v != "Muster IT" {
		t.Fatalf("the step does not start from the configured name: %q", v)
	}
	resp, body = e.post("/staff/welcome", url.Values{"msp_name": {""}, "support_email": {"support@localhost"}, "support_phone": {"abc"}}, nil)
	if resp.StatusCode != 422 || doc(t, body).Find(`[aria-invalid="true"]`).Length() != 3 {
		t.Fatalf("bad setup values: %d", resp.StatusCode)
	}
	resp, _ = e.post("/staff/welcome", url.Values{"msp_name": {"Beispiel IT-Service"}, "support_email": {"hilfe@beispiel-it.example"}, "support_phone": {"+49 40 555 0100"}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/staff" {
		t.Fatalf("setup step: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if m := e.srv.msp.Load(); m.Name != "Beispiel IT-Service" || m.SupportEmail != "hilfe@beispiel-it.example" || m.SupportPhone != "+49 40 555 0100" {
		t.Fatalf("MSP after the step: %+v", m)
	}
	if resp, _ := e.get("/staff", nil); resp.StatusCode != 200 {
		t.Fatalf("staff home after the step: %d", resp.StatusCode)
	}
	// The first customer's invitation goes out under the MSP's name and support address.
	o := e.createOrg("Alpha GmbH", "alpha")
	e.invite("kunde@alpha.example", "Kim Kunde", o.ID, "manager", "de")
	if m := e.lastMailTo("kunde@alpha.example"); !strings.Contains(m.Subject+m.Text, "Beispiel IT-Service") || strings.Contains(m.Text, "support@localhost") {
		t.Fatalf("invitation after the setup step: %q\n%s", m.Subject, m.Text)
	}
	// Once an administrator exists there is no setup link.
	e.createUser("boss@msp.example", "Boss", "admin", nil)
	if link, _ := e.srv.accounts.FirstAdminLink(ctx); link != "" {
		t.Fatalf("setup link with an administrator: %q", link)
	}
}

func TestFirstAdminSetupLinkExpires(t *testing.T) {
	e := newTestEnv(t)
	link, _ := e.srv.accounts.FirstAdminLink(context.Background())
	e.clock.Advance(25 * time.Hour)
	if resp, _ := e.get(strings.TrimPrefix(link, e.ts.URL), nil); resp.StatusCode != 410 {
		t.Fatalf("expired link: %d", resp.StatusCode)
	}
}

// The setup step is for a fresh installation's administrators only: a technician is not sent there, and
// an installation that already has organisations (an upgrade) never asks.
func TestMSPSetupStepOnlyForAFreshInstallation(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("tech@msp.example", "Toni Technik", "technician", nil)
	e.login("tech@msp.example", testPassword)
	if resp, _ := e.get("/staff", nil); resp.StatusCode != 200 {
		t.Fatalf("technician on a fresh installation: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := e.get("/staff/welcome", nil); resp.StatusCode != 404 && resp.StatusCode != 403 {
		t.Fatalf("technician on the setup step: %d", resp.StatusCode)
	}
	e.createOrg("Alpha GmbH", "alpha")
	e.createUser("boss@msp.example", "Boss", "admin", nil)
	e.newClient()
	e.login("boss@msp.example", testPassword)
	if resp, _ := e.get("/staff", nil); resp.StatusCode != 200 {
		t.Fatalf("administrator of an installation with organisations: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// postMultipart sends form fields and one file as multipart/form-data.
func (e *testEnv) postMultipart(path string, fields map[string]string, fileField, fileName string, content []byte) (*http.Response, string) {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if fileField != "" {
		fw, _ := w.CreateFormFile(fileField, fileName)
		fw.Write(content)
	}
	w.Close()
	return e.do(http.MethodPost, path, &body, map[string]string{"Content-Type": w.FormDataContentType()})
}

// The setup step takes an optional logo: kept as its pixels only, scaled into 320 × 96 with its
// proportions, shown in the header and served under a content-hashed name; a file that is no picture is
// refused by name and nothing is stored.
func TestMSPSetupStepTakesAnOptionalLogo(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("ada@msp.example", "Ada Admin", "admin", nil)
	e.login("ada@msp.example", testPassword)
	fields := map[string]string{"msp_name": "Beispiel IT", "support_email": "hilfe@beispiel-it.example"}
	resp, body := e.postMultipart("/staff/welcome", fields, "logo", "logo.txt", []byte("not a picture"))
	if resp.StatusCode != 422 || doc(t, body).Find(`[data-testid="error-logo"]`).Length() != 1 {
		t.Fatalf("a text file as logo: %d", resp.StatusCode)
	}
	if e.srv.msp.Load().Name == "Beispiel IT" {
		t.Fatal("a refused step stored something")
	}
	img := image.NewRGBA(image.Rect(0, 0, 800, 200))
	for i := range img.Pix {
		img.Pix[i] = 0xC0
	}
	var pngData bytes.Buffer
	png.Encode(&pngData, img)
	resp, _ = e.postMultipart("/staff/welcome", fields, "logo", "logo.png", pngData.Bytes())
	if resp.StatusCode != 303 {
		t.Fatalf("step with a logo: %d", resp.StatusCode)
	}
	_, body = e.get("/staff", nil)
	src, ok := doc(t, body).Find(`[data-testid="brand-logo"]`).Attr("src")
	if !ok || !strings.HasPrefix(src, "/msp-logo/") {
		t.Fatalf("no logo in the header: %q", src)
	}
	e.newClient() // shown to anyone, the sign-in page included
	resp, logo := e.get(src, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("logo: %d %v", resp.StatusCode, resp.Header)
	}
	cfg, err := png.DecodeConfig(strings.NewReader(logo))
	if err != nil || cfg.Width != 320 || cfg.Height != 80 {
		t.Fatalf("stored logo %dx%d (%v), want 320x80", cfg.Width, cfg.Height, err)
	}
	if resp, _ := e.get("/msp-logo/000000000000.png", nil); resp.StatusCode != 404 {
		t.Fatalf("another name: %d", resp.StatusCode)
	}
}
