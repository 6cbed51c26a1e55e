package handlers

import (
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

func TestSessionCodecRoundTrip(t *testing.T) {
	deadline := time.Date(2026, 11, 22, 10, 0, 0, 123, time.UTC)
	values := map[string]any{
		keyUID: int64(42), keyPwAt: time.Now().Unix(), keyMFAOK: true, "off": false, "count": 3,
		keyNext: "/o/alpha/docs/vpn?q=ä", keyTOTPPending: []byte{0, 1, 2, 255}, "f": 1.5, "at": deadline, "empty": "",
	}
	b, err := sessionCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	dl, got, err := sessionCodec{}.Decode(b)
	if err != nil || !dl.Equal(deadline) || !reflect.DeepEqual(got, values) {
		t.Fatalf("round trip: %v %v\n got  %#v\n want %#v", dl, err, got, values)
	}
	// Sessions written by gob (before this codec) still read.
	old := map[string]any{keyUID: int64(42), keyMFAOK: true, "count": 3, keyNext: "/x"}
	gb, err := scs.GobCodec{}.Encode(deadline, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := (sessionCodec{}).Decode(gb); err != nil || !reflect.DeepEqual(got, old) {
		t.Fatalf("gob session: %v %v", got, err)
	}
	// A type the codec does not know falls back to gob as a whole.
	odd := map[string]any{"list": []string{"a"}, keyUID: int64(7)}
	ob, err := sessionCodec{}.Encode(deadline, odd)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := (sessionCodec{}).Decode(ob); err != nil || !reflect.DeepEqual(got, odd) {
		t.Fatalf("fallback: %v %v", got, err)
	}
	// Damaged data is an error, never a panic (FuzzSessionCodec tries more).
	if _, _, err := (sessionCodec{}).Decode(b[:len(b)-1]); err == nil {
		t.Fatal("a cut session accepted")
	}
	if _, _, err := (sessionCodec{}).Decode(append(append([]byte(nil), sessionMagic...), 0xFF, 0xFF)); err == nil {
		t.Fatal("garbage accepted")
	}
}
