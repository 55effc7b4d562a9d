package payload

import "testing"

func TestScan(t *testing.T) {
	for _, tt := range []struct {
		body                 string
		ok                   bool
		typ, timestamp, data string
	}{
		{`{"event":"ticket.created","timestamp":"2024-01-15T10:30:00Z","data":{"id":"t1"}}`, true, "ticket.created", `"2024-01-15T10:30:00Z"`, `{"id":"t1"}`},
		{` { "data" : [1, "]"] , "EVENT" : "job.completed" } `, true, "job.completed", "", `[1, "]"]`},
		{`{"event":"x","other":{"nested":"\"}"}}`, true, "x", "", ""},
		{`{"event":"x","data":null}`, true, "x", "", "null"},
		{`{}`, false, "", "", ""},                              // no event
		{`{"event":"a","event":"b"}`, false, "", "", ""},       // repeated key
		{`{"ev\u0065nt":"a"}`, false, "", "", ""},              // escaped key
		{`{"event":"a\"b"}`, false, "", "", ""},                // escaped type
		{`{"event":1}`, false, "", "", ""},                     // type not a string
		{`{"event":"a"} x`, false, "", "", ""},                 // trailing bytes
		{`{"event":"a","other":nope}`, false, "", "", ""},      // invalid value
		{`{"event":"a"`, false, "", "", ""},                    // truncated
		{`["event","a"]`, false, "", "", ""},                   // not an object
		{`{"event":"a","data":{"id":"t1"}`, false, "", "", ""}, // data never closed
	} {
		p, ok := Scan([]byte(tt.body))
		if ok != tt.ok {
			t.Errorf("Scan(%s) ok = %v, want %v", tt.body, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if string(p.Type) != tt.typ || string(p.Timestamp) != tt.timestamp || string(p.Data) != tt.data {
			t.Errorf("Scan(%s) = %q, %q, %q; want %q, %q, %q", tt.body, p.Type, p.Timestamp, p.Data, tt.typ, tt.timestamp, tt.data)
		}
	}
}
