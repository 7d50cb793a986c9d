package cluster

import (
	"context"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The notifier e-mails the seller when an item is listed, and the buyer and the seller when
// it is bought (services/notifier/compose.go), once per event even when a message is
// redelivered. Mailpit, its relay on the node, shows what arrived.
func describeEmails() {
	Context("e-mails", func() {
		It("are sent once per event: item added to the seller; item bought to the buyer and the seller", func(ctx SpecContext) {
			mp, err := newMailpit(ctx)
			Expect(err).NotTo(HaveOccurred())
			seller, buyer := newAccount("mail-seller"), newAccount("mail-buyer")
			for _, a := range []*account{seller, buyer} {
				api.register(ctx, a)
				api.signIn(ctx, a)
			}
			DeferCleanup(func(ctx SpecContext) {
				for _, a := range []*account{seller, buyer} {
					mails, err := mp.to(ctx, a.email)
					Expect(err).NotTo(HaveOccurred())
					Expect(mp.delete(ctx, mailIDs(mails))).To(Succeed())
				}
			})

			name := "vase " + run
			id := addItem(ctx, seller, name, 7)
			api.expect(ctx, "buy", request{method: http.MethodPost, path: "/buy/" + id, token: buyer.token}, http.StatusOK)
			want := map[string][]string{
				seller.email: {
					fmt.Sprintf("Your item %q is listed for 7.00", name),
					fmt.Sprintf("Sold: your item %q for 7.00", name),
				},
				buyer.email: {fmt.Sprintf("Order confirmation: %q for 7.00", name)},
			}

			By("waiting for the three e-mails")
			Eventually(func(g Gomega) {
				for to, subjects := range want {
					g.Expect(subjectsTo(ctx, mp, to)).To(ContainElements(subjects), "e-mails to %s", to)
				}
			}).WithContext(ctx).WithTimeout(90 * time.Second).WithPolling(time.Second).Should(Succeed())

			By("checking that no duplicate follows")
			Consistently(func(g Gomega) {
				for to, subjects := range want {
					g.Expect(subjectsTo(ctx, mp, to)).To(ConsistOf(subjects), "e-mails to %s", to)
				}
			}).WithContext(ctx).WithTimeout(10 * time.Second).WithPolling(time.Second).Should(Succeed())
		}, SpecTimeout(4*time.Minute))
	})
}

// subjectsTo lists the subjects of the e-mails to addr (one entry per e-mail).
func subjectsTo(ctx context.Context, mp mailpit, addr string) ([]string, error) {
	mails, err := mp.to(ctx, addr)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(mails))
	for i, m := range mails {
		out[i] = m.Subject
	}
	return out, nil
}

func mailIDs(mails []mail) []string {
	out := make([]string, len(mails))
	for i, m := range mails {
		out[i] = m.ID
	}
	return out
}
