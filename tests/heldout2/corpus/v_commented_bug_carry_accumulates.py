# ==========================================================================
#  RNN homework 3 -- backprop through time, by hand
#
#  The network (one hidden layer, tanh, softmax on top):
#
#       h[t] = tanh( Wxh . x[t]  +  Whh . h[t-1]  +  bh )
#       y[t] = Why . h[t] + by
#       p[t] = softmax( y[t] )
#       L    = sum over t of  -log p[t][target[t]]
#
#  NOTE TO SELF: x[t] is one-hot, so Wxh . x[t] just picks a column.
#  NOTE TO SELF: I keep the states in a LIST where state[0] is hprev, so
#                the state AFTER step t is state[t+1].  (Off-by-one land!)
# ==========================================================================
import numpy as np
import math


def lossFun( inputs , targets , hprev ) :
  # ---- forward ----------------------------------------------------------
  T = len( inputs ) ; V = Wxh.shape[ 1 ]
  state = [ hprev.copy() ]              # state[0] = h[-1] in the lecture notation
  onehots = [] ; probs = []
  loss = 0.
  for t in range( T ) :
    x = np.zeros( ( V , 1 ) ) ; x[ inputs[ t ] ] = 1.
    onehots.append( x )
    # the pre-activation: input part + recurrent part + bias
    a = np.dot( Wxh , x ) \
        + np.dot( Whh , state[ t ] ) \
        + bh
    state.append( np.tanh( a ) )
    y = np.dot( Why , state[ t + 1 ] ) + by      # unnormalised log-probs
    y = y - np.max( y )                         # (for numerical safety)
    p = np.exp( y ) / np.sum( np.exp( y ) )
    probs.append( p )
    loss = loss - math.log( p[ targets[ t ] , 0 ] )
  # ---- backward ---------------------------------------------------------
  # We walk from the LAST step to the first.  dhnext carries dL/dh[t] that
  # comes from the FUTURE (steps t+1, t+2, ...) through Whh.
  dWxh = np.zeros_like( Wxh ) ; dWhh = np.zeros_like( Whh ) ; dWhy = np.zeros_like( Why )
  dbh = np.zeros_like( bh ) ; dby = np.zeros_like( by )
  dhnext = np.zeros_like( hprev )
  t = T - 1
  while t >= 0 :
    dy = probs[ t ].copy()
    dy[ targets[ t ] ] -= 1.                    # softmax + cross-entropy together
    dWhy += np.dot( dy , state[ t + 1 ].T )
    dby += dy
    dh = np.dot( Why.T , dy ) + dhnext          # from the output AND from the future
    dhraw = ( 1. - state[ t + 1 ] ** 2 ) * dh   # tanh' = 1 - tanh^2
    dbh += dhraw
    dWxh += np.dot( dhraw , onehots[ t ].T )
    dWhh += np.dot( dhraw , state[ t ].T )      # state[t] is h[t-1]  (!!)
    dhnext += np.dot( Whh.T , dhraw )           # hand it to step t-1
    t -= 1
  return loss , dWxh , dWhh , dWhy , dbh , dby , state[ T ]
