package handlers

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec stores session values in a small binary form instead of gob. Every request with a cookie
// decodes its session; gob builds a decoder and re-reads type descriptions each time, which `portier
// bench` measured at about 5% of a page. Values of the kinds sessions hold here (strings, byte slices,
// bools, ints, int64s, floats, times) are written as tag, key, value; a session holding anything else is
// written with gob as before, and sessions stored by gob (before this codec, or for other types) are
// still read, so an upgrade signs nobody out.
type sessionCodec struct{}

// sessionMagic starts every session this codec wrote; gob output never starts with it (gob begins with a
// length byte of the type definition, never 0xFF 'P').
var sessionMagic = []byte{0xFF, 'P', 1}

const (
	tagString byte = iota + 1
	tagBytes
	tagBool
	tagInt
	tagInt64
	tagFloat
	tagTime
)

func (sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	dl, err := deadline.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := append([]byte(nil), sessionMagic...)
	b = appendBytes(b, dl)
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := values[k].(type) {
		case string:
			b = appendBytes(append(b, tagString), []byte(k))
			b = appendBytes(b, []byte(v))
		case []byte:
			b = appendBytes(append(b, tagBytes), []byte(k))
			b = appendBytes(b, v)
		case bool:
			b = appendBytes(append(b, tagBool), []byte(k))
			if v {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case int:
			b = appendBytes(append(b, tagInt), []byte(k))
			b = binary.AppendVarint(b, int64(v))
		case int64:
			b = appendBytes(append(b, tagInt64), []byte(k))
			b = binary.AppendVarint(b, v)
		case float64:
			b = appendBytes(append(b, tagFloat), []byte(k))
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		case time.Time:
			tb, err := v.MarshalBinary()
			if err != nil {
				return nil, err
			}
			b = appendBytes(append(b, tagTime), []byte(k))
			b = appendBytes(b, tb)
		default:
			return scs.GobCodec{}.Encode(deadline, values)
		}
	}
	return b, nil
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

var errSessionData = errors.New("session data is damaged")

func (sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if len(b) < len(sessionMagic) || string(b[:len(sessionMagic)]) != string(sessionMagic) {
		return scs.GobCodec{}.Decode(b)
	}
	r := sessionReader{b: b[len(sessionMagic):]}
	var deadline time.Time
	if err := deadline.UnmarshalBinary(r.bytes()); err != nil || r.err {
		return time.Time{}, nil, errSessionData
	}
	values := map[string]any{}
	for len(r.b) > 0 && !r.err {
		tag := r.b[0]
		r.b = r.b[1:]
		k := string(r.bytes())
		switch tag {
		case tagString:
			values[k] = string(r.bytes())
		case tagBytes:
			values[k] = append([]byte(nil), r.bytes()...)
		case tagBool:
			if len(r.b) < 1 {
				r.err = true
				break
			}
			values[k] = r.b[0] == 1
			r.b = r.b[1:]
		case tagInt:
			values[k] = int(r.varint())
		case tagInt64:
			values[k] = r.varint()
		case tagFloat:
			if len(r.b) < 8 {
				r.err = true
				break
			}
			values[k] = math.Float64frombits(binary.BigEndian.Uint64(r.b))
			r.b = r.b[8:]
		case tagTime:
			var t time.Time
			if err := t.UnmarshalBinary(r.bytes()); err != nil {
				r.err = true
			}
			values[k] = t
		default:
			r.err = true
		}
	}
	if r.err {
		return time.Time{}, nil, errSessionData
	}
	return deadline, values, nil
}

type sessionReader struct {
	b   []byte
	err bool
}

func (r *sessionReader) bytes() []byte {
	n, w := binary.Uvarint(r.b)
	if w <= 0 || uint64(len(r.b)-w) < n {
		r.err = true
		r.b = nil
		return nil
	}
	v := r.b[w : w+int(n)]
	r.b = r.b[w+int(n):]
	return v
}

func (r *sessionReader) varint() int64 {
	v, w := binary.Varint(r.b)
	if w <= 0 {
		r.err = true
		r.b = nil
		return 0
	}
	r.b = r.b[w:]
	return v
}
