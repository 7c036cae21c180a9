package clientweb

// The body decoders, for the fuzz targets of package clientweb_test.
var (
	DecodeChatRequest  = decodeChatRequest
	DecodeSubscription = decodeSubscription
)
