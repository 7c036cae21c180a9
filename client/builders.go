package client

import "encoding/json"

// The functions below build the client events of §4.1 with the fields the
// SDKs send and nothing else; set more fields on the result when a test
// needs an SDK's quirks (a party_id, a msg_text).

// Message is a chat message. msgID is any opaque id the client chooses; the
// server acknowledges a resend of the same id without storing it again.
func Message(msgID, text string) Event {
	return Event{Event: EventMessage, MsgID: msgID, Msg: text}
}

// Delivered acknowledges that the message refMsgID reached the client.
func Delivered(refMsgID string) Event {
	return Event{Event: EventDelivered, RefMsgID: refMsgID}
}

// Read tells that the customer read the message refMsgID.
func Read(refMsgID string) Event {
	return Event{Event: EventRead, RefMsgID: refMsgID}
}

// Typing tells that the customer started typing.
func Typing() Event { return Event{Event: EventTyping} }

// NotTyping tells that the customer stopped typing.
func NotTyping() Event { return Event{Event: EventNotTyping} }

// File shares an uploaded file (see UploadFile) in the chat. fileType is
// "image", "attachment" or a MIME type.
func File(msgID, fileID, name, fileType string) Event {
	return Event{Event: EventFile, MsgID: msgID, FileID: fileID, FileName: name, FileType: fileType}
}

// Location shares a position; latitude and longitude are decimal strings.
func Location(msgID, latitude, longitude string) Event {
	return Event{Event: EventLocation, MsgID: msgID, Latitude: latitude, Longitude: longitude}
}

// Signaling sends one WebRTC call step to the party destinationPartyID.
func Signaling(msgID, destinationPartyID string, d SignalData) Event {
	data, _ := json.Marshal(d) // a struct of strings always encodes
	return Event{Event: EventSignaling, MsgID: msgID, DestinationPartyID: destinationPartyID, Data: data}
}

// FormData answers the form formRequestID named formName.
func FormData(formRequestID, formName string, values map[string]string) Event {
	if values == nil {
		values = map[string]string{}
	}
	data, _ := json.Marshal(values) // a map of strings always encodes
	return Event{Event: EventFormData, FormRequestID: formRequestID, FormName: formName, Data: data}
}

// Disconnect tells that the customer left the conversation; the session
// stays open for what the scenario still has to say.
func Disconnect() Event { return Event{Event: EventDisconnect} }

// End ends the chat session.
func End() Event { return Event{Event: EventEnd} }
