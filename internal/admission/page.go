package admission

import (
	"net/http"

	"github.com/rempart/rempart/internal/admission/waitpage"
)

// page answers a browser navigating to a gated page with the waiting
// page: same status and headers as the JSON answer, and a page that polls
// StatusPath and comes back to the same URL once admitted.
func (s *Stage) page(w http.ResponseWriter, r *http.Request, tu turn) {
	v := waitpage.View{
		Number: int64(tu.number), Position: int64(tu.position),
		Wait: tu.wait, RetryAfter: tu.retry, StatusURL: StatusPath,
		Return: r.URL.RequestURI(), Raffle: tu.raffle,
		PreQueue: tu.opensIn > 0, OpensIn: tu.opensIn,
	}
	waitpage.Render(w, r, v, http.StatusServiceUnavailable)
}
