package local

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// SESFaultProxy stands between the functions and aws-ses-v2-local and makes
// SendEmail and SendBulkEmail fail the way SES v2 fails, at a chosen rate:
//
//   - throttling: 429 TooManyRequestsException, nothing sent;
//   - serverError: 500 or 503, nothing sent;
//   - acceptedThenTimeout: the request goes to the server (the mail is in
//     its store), and the caller gets no answer: the proxy holds the
//     connection for a while (DefaultSESHang, see SetHang; or until the
//     caller gives up, if sooner) and then drops it.
//
// Everything else, and every call when no fault is drawn, passes through.
// The mail viewer and /store stay on the server itself. GET /_faults
// answers the settings and counts; POST /_faults changes them.
type SESFaultProxy struct {
	URL string // where the functions send (their SES_ENDPOINT)

	upstream string
	proxy    *httputil.ReverseProxy
	srv      *http.Server
	log      *slog.Logger

	mu     sync.Mutex
	hang   time.Duration // acceptedThenTimeout: how long the caller waits for nothing
	rate   float64
	seed   int64
	kinds  []string // nil: every kind
	rng    *rand.Rand
	counts map[string]int
}

// DefaultSESHang bounds an acceptedThenTimeout: long enough that a caller
// with a shorter per-attempt timeout sees its own timeout, short enough
// that a test suite with faults on does not stall.
const DefaultSESHang = time.Second

// StartSESFaultProxy listens on 127.0.0.1:port (0: a free port) in front
// of the SES server at upstream.
func StartSESFaultProxy(upstream string, port int, o FaultOptions, log *slog.Logger) (*SESFaultProxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("SES fault proxy: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	p := &SESFaultProxy{URL: "http://" + l.Addr().String(), hang: DefaultSESHang, upstream: upstream,
		proxy: httputil.NewSingleHostReverseProxy(u), log: log}
	p.Configure(o)
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second,
		// A dropped connection is the fault itself; the server need not log it.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// SetHang changes how long an acceptedThenTimeout keeps the caller waiting.
func (p *SESFaultProxy) SetHang(d time.Duration) {
	p.mu.Lock()
	p.hang = d
	p.mu.Unlock()
}

// Close stops the proxy.
func (p *SESFaultProxy) Close() error { return p.srv.Close() }

// Configure sets the rate, seed and kinds (IndexLag does not apply to SES)
// and zeroes nothing: counts run for the life of the proxy.
func (p *SESFaultProxy) Configure(o FaultOptions) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rate = o.Rate
	p.kinds = o.kindsFor(SESFaultKinds)
	if o.Seed != 0 || p.rng == nil {
		p.seed = o.Seed
		if p.seed == 0 {
			p.seed = rand.Int64()
		}
		p.rng = rand.New(rand.NewPCG(uint64(p.seed), 0x5e5))
	}
	if p.counts == nil {
		p.counts = map[string]int{}
		for _, k := range SESFaultKinds {
			p.counts[k] = 0
		}
	}
}

// State is the proxy's settings and counts.
func (p *SESFaultProxy) State() FaultState {
	p.mu.Lock()
	defer p.mu.Unlock()
	counts := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		counts[k] = v
	}
	return FaultState{Rate: p.rate, Seed: p.seed, Kinds: p.kinds, Counts: counts}
}

func (p *SESFaultProxy) pick() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rate <= 0 || p.rng.Float64() >= p.rate {
		return ""
	}
	kinds := SESFaultKinds
	if p.kinds != nil {
		kinds = p.kinds
	}
	if len(kinds) == 0 {
		return ""
	}
	return kinds[p.rng.IntN(len(kinds))]
}

func (p *SESFaultProxy) count(kind string) {
	p.mu.Lock()
	p.counts[kind]++
	p.mu.Unlock()
}

// isSend reports whether r is SendEmail or SendBulkEmail (SES v2's REST paths).
func isSend(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/v2/email/outbound-emails" || r.URL.Path == "/v2/email/outbound-bulk-emails")
}

func (p *SESFaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_faults" {
		p.control(w, r)
		return
	}
	if !isSend(r) {
		p.proxy.ServeHTTP(w, r)
		return
	}
	switch kind := p.pick(); kind {
	case FaultThrottling:
		p.count(kind)
		// The SDK reads the error type from x-amzn-ErrorType (or __type)
		// and decodes it to types.TooManyRequestsException.
		sesError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Maximum sending rate exceeded.")
	case FaultServerError:
		p.count(kind)
		if p.coin() {
			sesError(w, http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.")
		} else {
			sesError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
		}
	case FaultAcceptedThenTimeout:
		p.acceptThenDrop(w, r)
	default:
		p.proxy.ServeHTTP(w, r)
	}
}

func (p *SESFaultProxy) coin() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.IntN(2) == 0
}

// acceptThenDrop sends the request to the server and, once the server has
// taken the message, keeps the caller waiting and closes the connection
// without an answer. Should the server refuse it, its answer is relayed
// and no fault is counted.
func (p *SESFaultProxy) acceptThenDrop(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
		return
	}
	p.count(FaultAcceptedThenTimeout)
	p.mu.Lock()
	hang := p.hang
	p.mu.Unlock()
	select {
	case <-time.After(hang):
	case <-r.Context().Done():
	}
	// The server closes the connection without writing a response.
	panic(http.ErrAbortHandler)
}

// sesError answers in SES v2's REST-JSON error shape.
func sesError(w http.ResponseWriter, status int, kind, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", kind)
	w.Header().Set("x-amzn-RequestId", users.NewID("req"))
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": message})
	_, _ = w.Write(b)
}

// control serves /_faults: GET answers the state; POST takes
// {"rate","seed","kinds","reset"} (absent fields keep their values).
func (p *SESFaultProxy) control(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		var in struct {
			Rate  *float64        `json:"rate"`
			Seed  *int64          `json:"seed"`
			Kinds json.RawMessage `json:"kinds"`
			Reset bool            `json:"reset"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
			http.Error(w, `{"message":"bad settings"}`, http.StatusBadRequest)
			return
		}
		st := p.State()
		o := FaultOptions{Rate: st.Rate, Kinds: st.Kinds}
		if in.Rate != nil {
			if *in.Rate < 0 || *in.Rate > 1 {
				http.Error(w, `{"message":"rate must be from 0 to 1"}`, http.StatusBadRequest)
				return
			}
			o.Rate = *in.Rate
		}
		if in.Seed != nil {
			o.Seed = *in.Seed
		}
		if len(in.Kinds) > 0 {
			o.Kinds = nil
			if string(in.Kinds) != "null" {
				if err := json.Unmarshal(in.Kinds, &o.Kinds); err != nil {
					http.Error(w, `{"message":"kinds must be a list"}`, http.StatusBadRequest)
					return
				}
				for _, k := range o.Kinds {
					if !slices.Contains(SESFaultKinds, k) {
						http.Error(w, fmt.Sprintf(`{"message":"unknown kind %q"}`, k), http.StatusBadRequest)
						return
					}
				}
				if o.Kinds == nil {
					o.Kinds = []string{}
				}
			}
		}
		p.Configure(o)
		if in.Reset {
			p.mu.Lock()
			for k := range p.counts {
				p.counts[k] = 0
			}
			p.mu.Unlock()
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p.State())
}
