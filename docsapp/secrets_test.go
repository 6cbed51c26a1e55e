package docsapp

import "testing"

// The join code a phone camera reads: the security type as phones name it, the key only where there is
// one, and the format's special characters escaped (an SSID with a semicolon must not end the field).
func TestWifiQRContent(t *testing.T) {
	for _, c := range []struct {
		ssid, security, key string
		hidden              bool
		want                string
	}{
		{"Büro", "wpa2", "geheim", false, "WIFI:T:WPA;S:Büro;P:geheim;;"},
		{"Gast", "open", "", false, "WIFI:T:nopass;S:Gast;;"},
		{"Neu", "wpa3", "k", true, "WIFI:T:SAE;S:Neu;P:k;H:true;;"},
		{`a;b,c:d"e\f`, "wpa2_wpa3", `p;w"d`, false, `WIFI:T:WPA;S:a\;b\,c\:d\"e\\f;P:p\;w\"d;;`},
	} {
		if got := wifiQRContent(c.ssid, c.security, c.key, c.hidden); got != c.want {
			t.Errorf("%q/%s: %q, want %q", c.ssid, c.security, got, c.want)
		}
	}
}
