package identity

// Family is the kind of software a User-Agent names.
type Family uint8

// The User-Agent families.
const (
	FamilyEmpty   Family = iota // no User-Agent, or only spaces
	FamilyOther                 // none of the below
	FamilyBrowser               // Mozilla/... without a bot token
	FamilyApp                   // a media player or app HTTP stack (AVPlayer, ExoPlayer, okhttp...)
	FamilyCurl                  // curl, libcurl
	FamilyPython                // python-requests, urllib, aiohttp, httpx
	FamilyGo                    // Go-http-client
	FamilyTool                  // other scripting tools: wget, Java, node, Perl, Postman...
	FamilyBot                   // crawlers, headless browsers, anything saying bot/spider/crawl
	NumFamilies
)

var familyNames = [NumFamilies]string{"empty", "other", "browser", "app", "curl", "python", "go", "tool", "bot"}

// String returns the family's name as used in metrics and evidence.
func (f Family) String() string {
	if f >= NumFamilies {
		return "invalid"
	}
	return familyNames[f]
}

// maxUALen bounds the bytes of a User-Agent examined.
const maxUALen = 512

// Tokens, matched case-insensitively. Contained tokens may appear
// anywhere; prefixes name the product at the start of the string.
var (
	botTokens = []string{"bot/", "bot;", "bot-", "bot)", "+http", "spider", "crawl", "slurp",
		"headless", "lighthouse", "phantomjs", "selenium", "puppeteer", "playwright"}
	appTokens = []string{"exoplayer", "applecoremedia", "cfnetwork", "okhttp", "stagefright", "dalvik"}
	prefixes  = []uaToken{
		{"curl/", FamilyCurl}, {"libcurl", FamilyCurl},
		{"python", FamilyPython}, {"aiohttp", FamilyPython}, {"httpx", FamilyPython},
		{"go-http-client", FamilyGo},
		{"wget", FamilyTool}, {"java", FamilyTool}, {"apache-httpclient", FamilyTool},
		{"node", FamilyTool}, {"axios", FamilyTool}, {"undici", FamilyTool},
		{"libwww-perl", FamilyTool}, {"postmanruntime", FamilyTool}, {"powershell", FamilyTool},
		{"okhttp", FamilyApp}, {"dalvik", FamilyApp}, {"applecoremedia", FamilyApp},
		{"stagefright", FamilyApp}, {"exoplayer", FamilyApp}, {"vlc", FamilyApp},
		{"lavf", FamilyApp}, {"roku", FamilyApp}, {"cfnetwork", FamilyApp},
	}
)

// uaToken is a lowercase token and the family it reveals.
type uaToken struct {
	token  string
	family Family
}

// tokensByFirst indexes the contained tokens by their first byte, in both
// cases, so that FamilyOf scans the User-Agent once.
var tokensByFirst = func() (t [256][]uaToken) {
	add := func(tokens []string, f Family) {
		for _, tok := range tokens {
			c := tok[0]
			t[c] = append(t[c], uaToken{tok, f})
			if 'a' <= c && c <= 'z' {
				t[c-'a'+'A'] = append(t[c-'a'+'A'], uaToken{tok, f})
			}
		}
	}
	add(botTokens, FamilyBot)
	add(appTokens, FamilyApp)
	return t
}()

// FamilyOf classifies a User-Agent cheaply, by one case-insensitive scan
// for tokens over its first 512 bytes and a few prefix checks: never a
// full parse, and no allocation. Bot tokens win over everything (a
// crawler often claims Mozilla/5.0), then known product prefixes, then
// app tokens, then "Mozilla/" for browsers.
func FamilyOf(ua string) Family {
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	ua = trimOWS(ua)
	if ua == "" {
		return FamilyEmpty
	}
	app := false
	for i := 0; i < len(ua); i++ {
		for _, t := range tokensByFirst[ua[i]] {
			if hasPrefixFold(ua[i:], t.token) {
				if t.family == FamilyBot {
					return FamilyBot
				}
				app = true
			}
		}
	}
	for _, p := range prefixes {
		if hasPrefixFold(ua, p.token) {
			return p.family
		}
	}
	switch {
	case app:
		return FamilyApp
	case hasPrefixFold(ua, "mozilla/"), hasPrefixFold(ua, "opera/"):
		return FamilyBrowser
	}
	return FamilyOther
}

// lower folds ASCII letters only; tokens are lowercase ASCII.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}
