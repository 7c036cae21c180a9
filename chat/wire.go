package chat

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// field names one key of an event on the wire.
type field uint8

const (
	fMsgID field = iota
	fPartyID
	fMsg
	fMsgText
	fRefMsgID
	fState
	fEWT
	fFirstName
	fLastName
	fDisplayName
	fPartyType
	fFileID
	fFileName
	fFileType
	fLatitude
	fLongitude
	fURL
	fCaseID
	fDestination
	fSignal
	fChannel
	fFormName
	fFormRequest
	fFormTimeout
	fFormData
)

// wireFields lists, per type, every key §4.2 requires. Each key is always
// written, "" when empty, because the Android SDK declares them non-null.
var wireFields = map[Type][]field{
	TypeStatus:            {fState, fEWT},
	TypePartyJoined:       {fPartyID, fFirstName, fLastName, fDisplayName, fPartyType},
	TypePartyLeft:         {fPartyID},
	TypeMessage:           {fMsgID, fPartyID, fMsg, fMsgText},
	TypeDelivered:         {fRefMsgID, fPartyID},
	TypeRead:              {fRefMsgID, fPartyID},
	TypeTyping:            {fPartyID},
	TypeNotTyping:         {fPartyID},
	TypeLocation:          {fMsgID, fPartyID, fURL, fLatitude, fLongitude},
	TypeFile:              {fMsgID, fPartyID, fFileID, fFileName, fFileType},
	TypeCaseSet:           {fCaseID},
	TypeTimeoutWarning:    {fMsg},
	TypeInactivityTimeout: {fMsg},
	TypeSignaling:         {fMsgID, fPartyID, fDestination, fSignal},
	TypeFormShow:          {fChannel, fFormName, fFormRequest, fFormTimeout},
	TypeEnded:             {},
	// Client-only types, written for the agent side.
	TypeFormData:   {fPartyID, fFormRequest, fFormName, fFormData},
	TypeDisconnect: {fPartyID},
	TypeEnd:        {fPartyID},
}

// AppendJSON appends e in its wire form: {"event":…, the type's fields,
// "timestamp":"<unix s>","seq":n}. It allocates only to grow buf.
func (e *Event) AppendJSON(buf []byte) []byte {
	buf = append(buf, `{"event":`...)
	buf = appendString(buf, string(e.Type))
	for _, f := range wireFields[e.Type] {
		buf = e.appendField(buf, f)
	}
	buf = append(buf, `,"timestamp":"`...)
	buf = strconv.AppendInt(buf, e.Time.Unix(), 10)
	buf = append(buf, `","seq":`...)
	buf = strconv.AppendInt(buf, e.Seq, 10)
	return append(buf, '}')
}

// MarshalJSON returns the wire form of e.
func (e Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

func (e *Event) appendField(buf []byte, f field) []byte {
	switch f {
	case fMsgID:
		return appendKey(buf, "msg_id", e.MsgID)
	case fPartyID:
		return appendKey(buf, "party_id", e.PartyID)
	case fMsg:
		return appendKey(buf, "msg", e.Msg)
	case fMsgText:
		return appendKey(buf, "msg_text", e.MsgText)
	case fRefMsgID:
		return appendKey(buf, "ref_msg_id", e.RefMsgID)
	case fState:
		return appendKey(buf, "state", e.State)
	case fEWT:
		return appendKey(buf, "ewt", strconv.Itoa(e.EWT))
	case fFirstName:
		return appendKey(buf, "first_name", e.FirstName)
	case fLastName:
		return appendKey(buf, "last_name", e.LastName)
	case fDisplayName:
		return appendKey(buf, "display_name", e.DisplayName)
	case fPartyType:
		return appendKey(buf, "type", e.PartyType)
	case fFileID:
		return appendKey(buf, "file_id", e.FileID)
	case fFileName:
		return appendKey(buf, "file_name", e.FileName)
	case fFileType:
		return appendKey(buf, "file_type", e.FileType)
	case fLatitude:
		return appendKey(buf, "latitude", e.Latitude)
	case fLongitude:
		return appendKey(buf, "longitude", e.Longitude)
	case fURL:
		if e.URL == "" {
			return append(buf, `,"url":null`...)
		}
		return appendKey(buf, "url", e.URL)
	case fCaseID:
		return appendKey(buf, "case_id", e.CaseID)
	case fDestination:
		return appendKey(buf, "destination_party_id", e.Destination)
	case fSignal:
		return e.Signal.appendJSON(append(buf, `,"data":`...))
	case fChannel:
		return appendKey(buf, "channel", e.Channel)
	case fFormName:
		return appendKey(buf, "form_name", e.FormName)
	case fFormRequest:
		return appendKey(buf, "form_request_id", e.FormRequest)
	case fFormTimeout:
		return appendKey(buf, "form_timeout", strconv.Itoa(e.FormTimeout))
	case fFormData:
		if len(e.FormData) == 0 {
			return append(buf, `,"data":{}`...)
		}
		return append(append(buf, `,"data":`...), e.FormData...)
	}
	return buf
}

func (s *Signal) appendJSON(buf []byte) []byte {
	buf = append(buf, `{"type":`...)
	buf = appendString(buf, s.Type)
	buf = appendKey(buf, "sdp", s.SDP)
	buf = appendKey(buf, "candidate", s.Candidate)
	buf = appendKey(buf, "sdpMid", s.SDPMid)
	buf = appendKey(buf, "sdpMLineIndex", s.SDPMLineIndex)
	offer := s.OfferVideo
	if offer == "" {
		offer = "false"
	}
	buf = appendKey(buf, "offerVideo", offer)
	buf = appendKey(buf, "reason_code", s.ReasonCode)
	buf = appendKey(buf, "reason", s.Reason)
	return append(buf, '}')
}

func appendKey(buf []byte, key, value string) []byte {
	buf = append(buf, ',', '"')
	buf = append(buf, key...)
	buf = append(buf, '"', ':')
	return appendString(buf, value)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Like encoding/json it escapes
// control characters, HTML-significant characters (a message may land in a
// web page) and U+2028/U+2029, and replaces invalid UTF-8 with U+FFFD.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// AppendEvents appends {"events":[…]} for evs. It makes room for the
// whole answer at once: grown append by append, a fresh buffer would be
// copied a dozen times for a large batch.
func AppendEvents(buf []byte, evs []Event) []byte {
	buf = slices.Grow(buf, sizeHint(evs))
	buf = append(buf, `{"events":`...)
	return append(AppendEventArray(buf, evs), '}')
}

// sizeHint is about the wire size of evs: the keys and fixed values of an
// event take under 200 bytes, its texts a little more than their length.
func sizeHint(evs []Event) int {
	n := 16
	for i := range evs {
		ev := &evs[i]
		n += 200 + len(ev.Msg) + len(ev.MsgText) + len(ev.FileName) + len(ev.Signal.SDP) + len(ev.Signal.Candidate) + len(ev.FormData)
	}
	return n + n/8
}

// AppendEventArray appends the JSON array of evs.
func AppendEventArray(buf []byte, evs []Event) []byte {
	buf = append(buf, '[')
	for i := range evs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = evs[i].AppendJSON(buf)
	}
	return append(buf, ']')
}
