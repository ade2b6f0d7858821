package delivery

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/teamusers/usersapi/internal/emails"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Outcome classes of a send.
var (
	// ErrTransient: SES did not take the message (throttled, 5xx, could
	// not connect); sending again is safe.
	ErrTransient = errors.New("transient send failure")
	// ErrPermanent: SES refused the message; sending again will not help.
	ErrPermanent = errors.New("permanent send failure")
	// ErrUnknown: the request may have reached SES; sending again could
	// send twice.
	ErrUnknown = errors.New("send outcome unknown")
)

// SESOptions makes an SES v2 client send each request once: no SDK
// retries, which could deliver one email several times when SES took it
// and its answer was lost. The deliverer decides what to retry.
func SESOptions(o *sesv2.Options) {
	o.Retryer = aws.NopRetryer{}
}

// SESClient is what the sender needs of SES v2.
type SESClient interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// NewSESClient builds an SES v2 client that sends each request once
// (SESOptions), pointed at endpoint when set.
func NewSESClient(cfg aws.Config, endpoint string) *sesv2.Client {
	return sesv2.NewFromConfig(cfg, SESOptions, func(o *sesv2.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// SES sends through SES v2.
type SES struct {
	Client  SESClient
	From    string
	Timeout time.Duration // per send; 0: 10 s
	// ConfigurationSet names the configuration set whose event destination
	// publishes bounces and complaints (empty: none).
	ConfigurationSet string
}

// options sets what every send carries: the configuration set and the
// message's tags.
func (s SES) options(in *sesv2.SendEmailInput, m emails.Message) *sesv2.SendEmailInput {
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	names := make([]string, 0, len(m.Tags))
	for k := range m.Tags {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String(k), Value: aws.String(m.Tags[k])})
	}
	return in
}

// Send sends one message and returns SES's message id, or an error wrapping
// ErrTransient, ErrPermanent or ErrUnknown.
func (s SES) Send(ctx context.Context, m emails.Message) (string, error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The address is the verified sender's; the display name is the
	// email's own ("Acme Inc via Krisp"), made safe and encoded by
	// FormatAddress (SES wants a non-ASCII name RFC 2047-encoded).
	from := emails.FormatAddress(m.FromName, emails.BareAddress(s.From))
	to := emails.CleanAddress(m.To)
	if to == "" {
		return "", errors.Join(ErrPermanent, errors.New("the recipient is not a plain address"))
	}
	var replyTo []string
	if r := emails.CleanAddress(m.ReplyTo); r != "" {
		replyTo = []string{r}
	}
	if len(m.Attachments) > 0 {
		raw, err := emails.RawMIME(from, m)
		if err != nil {
			return "", errors.Join(ErrPermanent, err)
		}
		out, err := s.Client.SendEmail(ctx, s.options(&sesv2.SendEmailInput{
			FromEmailAddress: aws.String(from),
			Destination:      &types.Destination{ToAddresses: []string{to}},
			Content:          &types.EmailContent{Raw: &types.RawMessage{Data: raw}}, // Reply-To is in its headers
		}, m))
		if err != nil {
			return "", classify(err)
		}
		return messageID(out)
	}
	out, err := s.Client.SendEmail(ctx, s.options(&sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &types.Destination{ToAddresses: []string{to}},
		ReplyToAddresses: replyTo,
		Content: &types.EmailContent{Simple: &types.Message{
			Headers: []types.MessageHeader{{Name: aws.String(emails.AutoSubmittedHeader), Value: aws.String(emails.AutoSubmitted)}},
			Subject: &types.Content{Data: aws.String(emails.SubjectLine(m.Subject)), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(m.Text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(m.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	}, m))
	if err != nil {
		return "", classify(err)
	}
	return messageID(out)
}

// messageID reads SES's answer defensively: a success without a message
// id is not what SES answers, so it is no proof that SES took the message
// (a proxy, a truncated answer): its outcome is unknown, and the email is
// never sent again on the strength of it.
func messageID(out *sesv2.SendEmailOutput) (string, error) {
	if out == nil || aws.ToString(out.MessageId) == "" {
		return "", errors.Join(ErrUnknown, errors.New("SES answered without a message id"))
	}
	return aws.ToString(out.MessageId), nil
}

func classify(err error) error {
	var tooMany *types.TooManyRequestsException
	var limit *types.LimitExceededException
	if errors.As(err, &tooMany) || errors.As(err, &limit) {
		return errors.Join(ErrTransient, err)
	}
	// A status read from SES decides; the SDK also reports a request that
	// got no answer (a timeout after it went out, a dropped connection) as
	// a response error of status 0, which decides nothing.
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() != 0 {
		switch code := resp.HTTPStatusCode(); {
		case code < 300:
			// SES said it took the message, and its answer could not be
			// read: it may well be on its way.
			return errors.Join(ErrUnknown, err)
		case code == http.StatusTooManyRequests || code >= 500:
			return errors.Join(ErrTransient, err)
		default:
			return errors.Join(ErrPermanent, err)
		}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return errors.Join(ErrPermanent, err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return errors.Join(ErrTransient, err)
	}
	return errors.Join(ErrUnknown, err)
}
