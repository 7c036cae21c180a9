package chat

import (
	"encoding/json"
	"strconv"
)

// AppendJSON appends p as encoding/json marshals it (the form stores keep
// it in, see Payload), without reflection: stores encode a payload at
// every append. Payloads with a signal or form data, seldom sent, go
// through encoding/json itself. The bytes may differ from encoding/json's
// in how a string escapes a character (\b for \u0008), never in what they
// decode to (FuzzPayloadAppendJSON).
func (p *Payload) AppendJSON(buf []byte) ([]byte, error) {
	if p.Signal != (Signal{}) || len(p.FormData) > 0 {
		b, err := json.Marshal(p)
		return append(buf, b...), err
	}
	start := len(buf)
	buf = append(buf, '{')
	str := func(key, v string) {
		if v != "" {
			buf = append(buf, ',', '"')
			buf = append(buf, key...)
			buf = append(buf, '"', ':')
			buf = appendString(buf, v)
		}
	}
	num := func(key string, v int) {
		if v != 0 {
			buf = append(buf, ',', '"')
			buf = append(buf, key...)
			buf = append(buf, '"', ':')
			buf = strconv.AppendInt(buf, int64(v), 10)
		}
	}
	// In the order of Payload's fields, with their names and omitempty.
	str("msg", p.Msg)
	str("msg_text", p.MsgText)
	str("ref_msg_id", p.RefMsgID)
	str("state", p.State)
	num("ewt", p.EWT)
	str("first_name", p.FirstName)
	str("last_name", p.LastName)
	str("display_name", p.DisplayName)
	str("party_type", p.PartyType)
	str("photo_id", p.PhotoID)
	str("agent_id", p.AgentID)
	str("file_id", p.FileID)
	str("file_name", p.FileName)
	str("file_type", p.FileType)
	str("latitude", p.Latitude)
	str("longitude", p.Longitude)
	str("url", p.URL)
	str("case_id", p.CaseID)
	str("destination_party_id", p.Destination)
	str("channel", p.Channel)
	str("form_name", p.FormName)
	str("form_request_id", p.FormRequest)
	num("form_timeout", p.FormTimeout)
	if len(buf) > start+1 {
		buf = append(buf[:start+1], buf[start+2:]...) // the first comma
	}
	return append(buf, '}'), nil
}
